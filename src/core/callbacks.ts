// Completion callbacks, the parts every layer shares: what a job's memo says about its callback,
// what the delivering workflow is given, and the event it sends. Types and pure helpers only, so
// workflows may import this.
//
// How a callback travels:
//  1. The bridge checks the URL (the caller's Gatehouse-Callback-URL header, else the route's
//     default) against callbacks.receivers, which picks the receiver (and so the key) and checks
//     that this caller and route may name it, and writes both into the memo of the job's own
//     start, so a 2xx still means exactly one thing: Temporal holds the workflow, and with it the
//     callback. A URL that is refused starts nothing.
//  2. A workflow interceptor (workflows/callback-interceptor.ts), before the job's own code runs,
//     starts the child workflow deliverCallback (id `<jobId>.callback`) with parent close policy
//     REQUEST_CANCEL. The job runs on while it waits.
//  3. However the job closes (completed, failed, cancelled, terminated, timed out), Temporal
//     asks the child to cancel: that is its signal. It reads the job's final state from Temporal
//     and POSTs it, signed with Standard Webhooks with its receiver's own key, retrying with
//     backoff for callbacks.retryFor. The POSTs run on the delivering queue's callbacks queue
//     (callbackPostQueue), whose worker has slots of its own, so a receiver that never answers
//     holds no slot of the job queue's.
import type { JobOrigin, JobView } from './job-view.js';
import type { WorkflowType } from './workflow-catalog.js';

/** The memo entry `callback` of a job that names one. */
export interface CallbackMemo {
  /** The URL, as callbacks.receivers checked it (normalized). */
  url: string;
  /** Who named it: the caller (Gatehouse-Callback-URL) or the route's default. */
  origin: 'header' | 'route';
  /** The receiver (callbacks.receivers.<name>) it goes to; absent in memos from before receivers. */
  receiver?: string;
  /** The task queue deliveries run on (callbacks.taskQueue); absent: the job's own. */
  taskQueue?: string;
}

/** The memo's callback, if it has a well-formed one; anything else is no callback. */
export function readCallbackMemo(memo: Record<string, unknown> | undefined): CallbackMemo | undefined {
  const value = memo?.callback as Partial<CallbackMemo> | undefined;
  if (typeof value?.url !== 'string' || (value.origin !== 'header' && value.origin !== 'route')) return undefined;
  return {
    url: value.url,
    origin: value.origin,
    ...(typeof value.receiver === 'string' ? { receiver: value.receiver } : {}),
    ...(typeof value.taskQueue === 'string' ? { taskQueue: value.taskQueue } : {}),
  };
}

export const callbackWorkflowType = 'deliverCallback' satisfies WorkflowType;

/** Task queues with this suffix are the callbacks' own (check-config keeps it out of taskQueues). */
export const callbackQueueSuffix = '.callbacks';

/**
 * The activity queue a delivering queue's callback attempts run on: the same process polls it with
 * a worker of its own (callbacks.maxConcurrent slots), so attempts never hold the job queue's slots.
 */
export function callbackPostQueue(taskQueue: string): string {
  return `${taskQueue}${callbackQueueSuffix}`;
}

/** The delivering workflow's id: one per job, so a second start for the same job is refused. */
export function callbackWorkflowId(jobId: string): string {
  return `${jobId}.callback`;
}

/**
 * The Standard Webhooks `webhook-id`: one message per job, the same on every attempt, so a
 * receiver that got an attempt whose answer was lost recognizes the retry as the same message.
 */
export function callbackWebhookId(jobId: string): string {
  return jobId;
}

/**
 * Who a callback is for, as the delivering worker checks it again before each attempt: the
 * receiver the bridge chose, and the groups of the caller who named it.
 */
export interface CallbackAddressee {
  url: string;
  /** callbacks.receivers.<name>; absent for callbacks started before receivers existed. */
  receiver?: string;
  /** The caller who named it in Gatehouse-Callback-URL; absent for the route's default. */
  caller?: { groups: string[] };
}

/** The delivering workflow's input. */
export interface CallbackRequest extends CallbackAddressee {
  jobId: string;
  /** What the job knows of itself when it starts its callback. */
  job: JobOrigin;
  /** Set when this workflow continued as new after it was woken: nothing more to wait for. */
  woken?: boolean;
}

/** The body of a callback, in the Standard Webhooks payload structure: type, timestamp, data. */
export interface CallbackEvent {
  /** job.completed, job.failed, job.canceled, job.terminated or job.timed_out. */
  type: string;
  /** When the job closed. */
  timestamp: string;
  /** The job as GET /v1/jobs/{jobId} answers it. */
  data: JobView;
}

export function callbackEvent(state: JobView): CallbackEvent {
  return {
    type: `job.${state.status.toLowerCase()}`,
    timestamp: state.closedAt ?? state.startedAt,
    data: state,
  };
}

/** How one callback is retried, from the delivering worker's config (callbacks.*). */
export interface CallbackRetry {
  initialIntervalMs: number;
  maximumIntervalMs: number;
  /** From the first attempt: past it, the callback is given up. */
  retryForMs: number;
  /** One attempt: connect, send, and the answer's headers. */
  attemptTimeoutMs: number;
}

/** What the delivering workflow reads once the job has closed (or finds it still running). */
export type JobClose = { status: 'RUNNING' } | { status: 'CLOSED'; event: CallbackEvent; retry: CallbackRetry };

/** One signed POST. */
export interface CallbackDelivery extends CallbackAddressee {
  webhookId: string;
  event: CallbackEvent;
}

export interface CallbackAnswer {
  /** The receiver's 2xx. */
  status: number;
  /** Which attempt it answered. */
  attempt: number;
}
