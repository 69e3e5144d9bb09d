// Job ids are Temporal workflow ids, `<route or provider>.<digest of the business key>`: readable
// in the Temporal UI and safe in a URL path segment. The digest is made by the bridge
// (src/bridge/jobs/derive-job-id.ts); anything that does not match this shape is no job of ours.

export const jobIdPattern = '^[a-z][a-z0-9-]{0,62}\\.[A-Za-z0-9_-]{16,64}$';
const jobIdRegex = new RegExp(jobIdPattern);

export function isJobId(value: string): boolean {
  return jobIdRegex.test(value);
}
