// Job statuses as the API spells them (Temporal's own enum names, without the prefix). Reading them
// from Temporal is src/temporal/job-status.ts.

export const jobStatuses = [
  'RUNNING',
  'COMPLETED',
  'FAILED',
  'CANCELED',
  'TERMINATED',
  'TIMED_OUT',
  'CONTINUED_AS_NEW',
] as const;
export type JobStatus = (typeof jobStatuses)[number];
