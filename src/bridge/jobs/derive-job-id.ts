// Job ids are business keys: the same caller sending the same Idempotency-Key (or, without one,
// the same edge X-Request-ID) to the same route always gets the same id, and the same webhook
// delivery to the same hook always gets the same id, so a retry by a client, a proxy or a
// provider can never start a second workflow. The id's shape is src/core/job-id.ts.
import { createHash, randomUUID } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { GatehouseError } from '../errors.js';

export type JobKey =
  | { kind: 'idempotency-key'; value: string }
  | { kind: 'request-id'; value: string }
  | { kind: 'none' }
  /**
   * A webhook delivery, keyed by the hook and the SHA-256 of the signed body. The delivery id is
   * kept for the memo and search attributes but is not part of the key: delivery headers are
   * not signed, so a replayed body under a new id must find the job it already started.
   */
  | { kind: 'delivery'; provider: string; hook: string; bodySha256: string; deliveryId: string }
  /** An admin's replay of a delivery record: a new job, keyed by the Idempotency-Key (or fresh). */
  | { kind: 'replay'; provider: string; hook: string; record: string; value: string }
  /** A rerun of a job by its caller: keyed by the job run again and the Idempotency-Key (or fresh). */
  | { kind: 'rerun'; of: string; value: string };

/** API jobs are scoped by their owner's principal and route; deliveries by provider and hook. */
export function deriveJobId(route: string, principal: string, key: JobKey): string {
  switch (key.kind) {
    case 'delivery':
      return `${key.provider}.${digest([key.hook, key.bodySha256])}`;
    case 'replay':
      return `${key.provider}.${digest([key.hook, 'replay', key.record, key.value])}`;
    case 'rerun':
      return `${route}.${digest([principal, route, 'rerun', key.of, key.value])}`;
    case 'none':
      // Without any key there is nothing a retry could repeat, so a fresh id is the honest choice.
      return `${route}.${digest([principal, route, 'random', randomUUID()])}`;
    default:
      return `${route}.${digest([principal, route, key.kind, key.value])}`;
  }
}

export function digest(parts: string[]): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('base64url').slice(0, 32);
}

/** Header values we accept as keys: printable ASCII, bounded, no whitespace tricks. */
const keyHeaderPattern = /^[\x21-\x7e]{1,255}$/;

/** The request's Idempotency-Key, if it sent one; one that is not acceptable is a 400. */
export function idempotencyKeyOf(request: Pick<FastifyRequest, 'headers'>): string | undefined {
  const header = request.headers['idempotency-key'];
  if (header === undefined) return undefined;
  if (typeof header !== 'string' || !keyHeaderPattern.test(header))
    throw new GatehouseError('GATEHOUSE_BAD_REQUEST', 'Idempotency-Key must be 1 to 255 printable ASCII characters');
  return header;
}
