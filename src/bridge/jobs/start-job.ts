// Starting a job: identity → request info → job id → one workflow start → the answer. The jobs API
// and the webhook intake both come through here.
//
// Policies, chosen on purpose:
// - workflowIdConflictPolicy FAIL: a start that finds the id already running throws, and we answer
//   from the existing run. (USE_EXISTING would hide whether *this* call created the run, and we
//   must know, to tell a replay of the same body from a reuse of the key with another body.)
// - workflowIdReusePolicy REJECT_DUPLICATE: a key whose job has already closed answers that job,
//   it never starts it again.
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import type { FastifyRequest } from 'fastify';
import { readCallbackMemo, type CallbackMemo } from '../../core/callbacks.js';
import type { Identity, JobRequest, RequestInfo } from '../../core/identity.js';
import { deliveryKey, ownerKey, repositoryKey, rerunOfKey, routeKey, sourceKey } from '../../core/search-attributes.js';
import type { RouteConfig } from '../../config/schema.js';
import type { JobSource } from '../../providers/registry.js';
import { GatehouseError } from '../errors.js';
import { noteRequest } from '../http/request-tracing.js';
import { describeJob } from '../../temporal/describe-job.js';
import type { TemporalGateway } from '../../temporal/gateway.js';
import { TemporalUnavailable } from '../../temporal/unavailable.js';
import { deriveJobId, type JobKey } from './derive-job-id.js';

export interface JobStart {
  route: string;
  routeConfig: RouteConfig;
  input: unknown;
  identity: Identity;
  key: JobKey;
  source: JobSource;
  /** Webhook deliveries: the provider's delivery id, kept as a search attribute. */
  deliveryId?: string;
  /** A replay: the delivery record replayed and who asked, kept in the memo. */
  replayOf?: ReplayLink;
  /** A rerun: the job run again, kept in the memo and as GatehouseRerunOf. */
  rerunOf?: RerunLink;
  /** The caller's Gatehouse-Callback-URL, as sent. */
  callbackUrl?: string;
  /** The job's completion callback (checked), kept in the memo: the job service fills it in. */
  callback?: CallbackMemo;
}

export interface ReplayLink {
  /** The delivery-log record replayed. */
  record: string;
  /** The job that record started, if it started one. */
  jobId: string | null;
  /** The admin who asked. */
  requestedBy: string;
}

export interface RerunLink {
  jobId: string;
  runId: string;
  /** Who asked for the rerun (the new job's owner). */
  requestedBy: string;
}

export interface StartedJob {
  jobId: string;
  runId: string;
  route: string;
  /** True when the job already existed: this call started nothing. */
  replayed: boolean;
  status: string;
}

export async function startJob(temporal: TemporalGateway, http: FastifyRequest, job: JobStart): Promise<StartedJob> {
  const jobId = deriveJobId(job.route, job.identity.principal, job.key);
  noteRequest(http, { jobId });
  const request = requestInfo(http, job.route, job.key);
  const args: JobRequest = { jobId, route: job.route, input: job.input, identity: job.identity };
  const { execution, run } = job.routeConfig.timeouts;
  const repository = repositoryOf(job.input);
  try {
    const handle = await temporal.call((client) =>
      client.workflow.start(job.routeConfig.workflowType, {
        workflowId: jobId,
        taskQueue: job.routeConfig.taskQueue,
        args: [args],
        memo: {
          identity: job.identity,
          request,
          ...(job.replayOf === undefined ? {} : { replayOf: job.replayOf }),
          ...(job.rerunOf === undefined ? {} : { rerunOf: job.rerunOf }),
          ...(job.callback === undefined ? {} : { callback: job.callback }),
        },
        typedSearchAttributes: [
          { key: ownerKey, value: job.identity.principal },
          { key: routeKey, value: job.route },
          { key: sourceKey, value: job.source },
          ...(job.deliveryId === undefined ? [] : [{ key: deliveryKey, value: job.deliveryId }]),
          ...(job.rerunOf === undefined ? [] : [{ key: rerunOfKey, value: job.rerunOf.jobId }]),
          ...(repository === undefined ? [] : [{ key: repositoryKey, value: repository }]),
        ],
        workflowIdConflictPolicy: 'FAIL',
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
        ...(execution === undefined ? {} : { workflowExecutionTimeout: execution }),
        ...(run === undefined ? {} : { workflowRunTimeout: run }),
      }),
    );
    return { jobId, runId: handle.firstExecutionRunId, route: job.route, replayed: false, status: 'RUNNING' };
  } catch (error) {
    if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
    return answerExisting(temporal, jobId, job.route, request, callerCallback(job.callback));
  }
}

/** The callback the caller asked for; a route's default is configuration, not part of the request. */
function callerCallback(callback: CallbackMemo | undefined): string | undefined {
  return callback?.origin === 'header' ? callback.url : undefined;
}

/**
 * The id is taken: the same request again is a replay; the same key with another body, or with
 * another Gatehouse-Callback-URL (or with one where the first had none, or the reverse), is a 422.
 */
async function answerExisting(
  temporal: TemporalGateway,
  jobId: string,
  route: string,
  request: RequestInfo,
  callbackUrl: string | undefined,
): Promise<StartedJob> {
  const job = await describeJob(temporal, jobId);
  // Taken a moment ago and gone now (retention, a deletion): nothing to answer from; the client retries.
  if (job === undefined) throw new TemporalUnavailable(`the job ${jobId} vanished between its start and its read`);
  const key = request.idempotencyKey === undefined ? 'This X-Request-ID' : 'This key';
  if (job.memo?.request.bodySha256 !== request.bodySha256) {
    throw new GatehouseError(
      'GATEHOUSE_IDEMPOTENCY_KEY_REUSED',
      `${key} was already used for a request with another body`,
    );
  }
  if (callerCallback(readCallbackMemo(job.rawMemo)) !== callbackUrl) {
    throw new GatehouseError(
      'GATEHOUSE_IDEMPOTENCY_KEY_REUSED',
      `${key} was already used for a request with another Gatehouse-Callback-URL`,
    );
  }
  return { jobId, runId: job.view.runId, route, replayed: true, status: job.view.status };
}

/** What the memo keeps of the HTTP request: the same fields for API calls and webhook deliveries. */
function requestInfo(http: FastifyRequest, route: string, key: JobKey): RequestInfo {
  const userAgent = http.headers['user-agent'];
  const idempotencyKey =
    key.kind === 'idempotency-key' || key.kind === 'rerun'
      ? key.value
      : key.kind === 'delivery'
        ? key.deliveryId
        : undefined;
  return {
    requestId: http.id,
    route,
    receivedAt: new Date().toISOString(),
    clientAddress: http.ip,
    ...(userAgent === undefined ? {} : { userAgent: userAgent.slice(0, 512) }),
    ...(idempotencyKey === undefined ? {} : { idempotencyKey }),
    bodySha256: http.bodySha256,
    ...(http.traceId === '' ? {} : { traceId: http.traceId }),
  };
}

/**
 * The repository a job is about, for the GatehouseRepository filter: `repository.fullName` in its
 * input (CI and Git-event inputs), bounded as a Keyword value; undefined for any other input.
 */
function repositoryOf(input: unknown): string | undefined {
  const repository = (input as { repository?: { fullName?: unknown } } | null)?.repository;
  const name = typeof repository === 'object' && repository !== null ? repository.fullName : undefined;
  return typeof name === 'string' && name.length > 0 && name.length <= 255 ? name : undefined;
}
