// When an admin's replay of a delivery is safe: the safe mode refuses while a job of that
// delivery is running or after one succeeded, unless `force` is given (replaying a success is a
// second run, and the admin must say so). Jobs are read from Temporal itself, not from visibility,
// which may lag; earlier replays and other jobs of the same delivery id through visibility.
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { DeliveryRecord } from '../../core/deliveries.js';
import { describeJob } from '../../temporal/describe-job.js';
import { GatehouseError } from '../errors.js';
import { idempotencyKeyOf } from '../jobs/derive-job-id.js';

/** The replay's own key: the admin's Idempotency-Key, so a retried replay answers its job, else a fresh one. */
export function replayKey(request: FastifyRequest): string {
  return idempotencyKeyOf(request) ?? randomUUID();
}

/**
 * Refuses an unsafe replay (409 GATEHOUSE_REPLAY_UNSAFE) unless forced. A retried replay (its
 * job, `replayJobId`, exists) answers that job and is not checked again.
 */
export async function checkReplaySafe(
  app: FastifyInstance,
  request: FastifyRequest,
  record: DeliveryRecord,
  options: { replayJobId: string; force: boolean },
): Promise<void> {
  if (options.force || (await statusOf(app, options.replayJobId)) !== undefined) return;
  const blocking: Array<{ jobId: string; status: string }> = [];
  if (record.jobId !== null) {
    const status = await statusOf(app, record.jobId);
    if (status === 'RUNNING' || status === 'COMPLETED') blocking.push({ jobId: record.jobId, status });
  }
  if (blocking.length === 0 && record.deliveryId !== null) {
    const { jobs } = await app.jobs.ofDelivery(request.identity, record.deliveryId);
    blocking.push(...jobs.filter((job) => job.status === 'RUNNING' || job.status === 'COMPLETED'));
  }
  if (blocking.length === 0) return;
  throw new GatehouseError(
    'GATEHOUSE_REPLAY_UNSAFE',
    `A job of this delivery is ${blocking[0]!.status.toLowerCase()} (${blocking.map((job) => job.jobId).join(', ')}); send {"force": true} to replay it anyway`,
  );
}

/** A job's status, read from Temporal itself; undefined when Temporal holds no such job. */
async function statusOf(app: FastifyInstance, jobId: string): Promise<string | undefined> {
  return (await describeJob(app.temporal, jobId))?.view.status;
}
