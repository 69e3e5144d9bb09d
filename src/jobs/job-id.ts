// Job ids are Temporal workflow ids, and they are business keys (DESIGN.md §5): the same caller
// sending the same Idempotency-Key (or, without one, the same edge X-Request-ID) to the same route
// always gets the same id, so a retry by a client or a proxy can never start a second workflow.
import { createHash, randomUUID } from 'node:crypto';
import type { Identity } from '../../activities/types.js';

/** `<route>.<32 base64url chars>`: readable in the Temporal UI, and safe in a URL path segment. */
export const jobIdPattern = '^[a-z][a-z0-9-]{0,62}\\.[A-Za-z0-9_-]{16,64}$';
const jobIdRegex = new RegExp(jobIdPattern);

export type JobKey =
  | { kind: 'idempotency-key'; value: string }
  | { kind: 'request-id'; value: string }
  | { kind: 'none' };

export function deriveJobId(route: string, owner: Pick<Identity, 'issuer' | 'subject'>, key: JobKey): string {
  // Without any key there is nothing a retry could repeat, so a fresh id is the honest choice.
  const keyPart = key.kind === 'none' ? ['random', randomUUID()] : [key.kind, key.value];
  return `${route}.${digest([owner.issuer, owner.subject, route, ...keyPart])}`;
}

export function isJobId(value: string): boolean {
  return jobIdRegex.test(value);
}

export function digest(parts: string[]): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('base64url').slice(0, 32);
}

/** Header values we accept as keys: printable ASCII, bounded, no whitespace tricks. */
export const keyHeaderPattern = /^[\x21-\x7e]{1,255}$/;
