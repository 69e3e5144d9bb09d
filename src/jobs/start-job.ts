// Starting a job: one workflow start, keyed by a deterministic workflow id.
//
// Policies, chosen on purpose:
// - workflowIdConflictPolicy FAIL: a start that finds the id already running throws, and we answer
//   from the existing run. (USE_EXISTING would hide whether *this* call created the run, and we
//   must know, to tell a replay of the same body from a reuse of the key with another body.)
// - workflowIdReusePolicy REJECT_DUPLICATE: a key whose job has already closed answers that job,
//   it never starts it again.
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import type { Identity, JobRequest, RequestInfo } from '../../activities/types.js';
import type { RouteConfig } from '../config/schema.js';
import { GatehouseError } from '../errors.js';
import type { TemporalGateway } from '../temporal/temporal-plugin.js';
import { deliveryKey, ownerKey, routeKey, sourceKey, type JobSource } from '../temporal/search-attributes.js';
import { readMemo } from './job-memo.js';
import { contractStatus } from './read-job.js';

export interface StartJobInput {
  jobId: string;
  route: string;
  routeConfig: RouteConfig;
  input: unknown;
  identity: Identity;
  request: RequestInfo;
  source: JobSource;
  /** Webhook deliveries: the provider's delivery id, kept as a search attribute. */
  deliveryId?: string;
}

export interface StartedJob {
  jobId: string;
  runId: string;
  /** True when the job already existed: this call started nothing. */
  replayed: boolean;
  status: string;
}

export async function startJob(temporal: TemporalGateway, job: StartJobInput): Promise<StartedJob> {
  const args: JobRequest = { jobId: job.jobId, route: job.route, input: job.input, identity: job.identity };
  const { execution, run } = job.routeConfig.timeouts;
  try {
    const handle = await temporal.call((client) =>
      client.workflow.start(job.routeConfig.workflowType, {
        workflowId: job.jobId,
        taskQueue: job.routeConfig.taskQueue,
        args: [args],
        memo: { identity: job.identity, request: job.request },
        typedSearchAttributes: [
          { key: ownerKey, value: job.identity.subject },
          { key: routeKey, value: job.route },
          { key: sourceKey, value: job.source },
          ...(job.deliveryId === undefined ? [] : [{ key: deliveryKey, value: job.deliveryId }]),
        ],
        workflowIdConflictPolicy: 'FAIL',
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
        ...(execution === undefined ? {} : { workflowExecutionTimeout: execution }),
        ...(run === undefined ? {} : { workflowRunTimeout: run }),
      }),
    );
    return { jobId: job.jobId, runId: handle.firstExecutionRunId, replayed: false, status: 'RUNNING' };
  } catch (error) {
    if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
    return answerExisting(temporal, job);
  }
}

/** The id is taken: the same request again is a replay; the same key with another body is a 422. */
async function answerExisting(temporal: TemporalGateway, job: StartJobInput): Promise<StartedJob> {
  const description = await temporal.call((client) => client.workflow.getHandle(job.jobId).describe());
  const memo = readMemo(description.memo);
  if (memo?.request.bodySha256 !== job.request.bodySha256) {
    throw new GatehouseError(
      'GATEHOUSE_IDEMPOTENCY_KEY_REUSED',
      job.request.idempotencyKey === undefined
        ? 'This X-Request-ID was already used for a request with another body'
        : 'This key was already used for a request with another body',
    );
  }
  return { jobId: job.jobId, runId: description.runId, replayed: true, status: contractStatus(description.status.name) };
}
