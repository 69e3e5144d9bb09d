// Cancelling a job: a cancellation *request* to the workflow, which decides how to wind down.
// Cancelling a job that is already cancelled answers the same as the first time, so a client may
// retry safely; cancelling one that closed otherwise is a 409.
import type { AccessRules, Caller } from '../../core/access.js';
import { GatehouseError } from '../errors.js';
import type { BridgeTemporal } from '../temporal/temporal-plugin.js';
import { findJob } from './read-job.js';

export interface CancelAnswer {
  jobId: string;
  status: 'CANCEL_REQUESTED' | 'CANCELED';
}

export async function cancelJob(
  temporal: BridgeTemporal,
  jobId: string,
  caller: Caller,
  rules: AccessRules,
): Promise<CancelAnswer> {
  const { view } = await findJob(temporal, jobId, caller, rules);
  if (view.status === 'CANCELED') return { jobId, status: 'CANCELED' };
  if (view.status !== 'RUNNING') {
    throw new GatehouseError('GATEHOUSE_JOB_NOT_RUNNING', `The job has already closed with status ${view.status}`);
  }
  await temporal.call((client) => client.workflow.getHandle(jobId, view.runId).cancel());
  return { jobId, status: 'CANCEL_REQUESTED' };
}
