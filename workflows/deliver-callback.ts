// deliverCallback: a job's completion callback (src/core/callbacks.ts). The callback interceptor
// starts it as the job's child, `<jobId>.callback`, before the job's own code runs, with parent
// close policy REQUEST_CANCEL: whichever way the job closes (completed, failed, cancelled,
// terminated, timed out), Temporal then asks this workflow to cancel, and that request is how it
// learns the job has closed. From then on nothing cancels it: it reads the job's final state from
// Temporal, exactly as GET /v1/jobs/{jobId} shows it, and POSTs it, signed, with the retry policy
// of callbacks.* (capped exponential backoff for callbacks.retryFor). It is never cancelled by
// the job's own cancellation (the interceptor starts it outside the job's cancellation scope).
// The POSTs run on the callbacks' own queue (callbackPostQueue), whose worker has slots of its
// own: a receiver that holds every attempt until its timeout never holds the job queue's slots.
import {
  ActivityFailure,
  CancellationScope,
  condition,
  continueAsNew,
  isCancellation,
  patched,
  proxyActivities,
  sleep,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import {
  callbackPostQueue,
  callbackWebhookId,
  type CallbackAnswer,
  type CallbackDelivery,
  type CallbackRequest,
  type JobClose,
} from '../src/core/callbacks.js';
import { fail } from '../src/core/failures.js';
import { activityPolicies, callbackPolicy } from '../src/core/retry-policies.js';

const { readJobClose } = proxyActivities<Activities>(activityPolicies.jobRead);

/** Marks histories whose POSTs run on the callbacks' own queue; older ones replay on the job's. */
const postQueuePatch = 'gatehouse-callback-post-queue';

/** The longest wait between two reads of a job that was found still running. */
const maxRecheckMs = 5 * 60_000;

export interface CallbackOutcome extends CallbackAnswer {
  webhookId: string;
  type: string;
}

export async function deliverCallback(request: CallbackRequest): Promise<CallbackOutcome> {
  if (request.woken !== true) await jobClosed();
  return CancellationScope.nonCancellable(async () => {
    let close: Extract<JobClose, { status: 'CLOSED' }>;
    try {
      close = await closedJob(request);
    } catch (error) {
      if (!(error instanceof ActivityFailure)) throw error;
      throw fail('CallbackUndelivered', `the job ${request.jobId} could not be read back for its callback`, {
        cause: error,
      });
    }
    const policy = callbackPolicy(close.retry);
    const { postCallback } = proxyActivities<Activities>(
      patched(postQueuePatch) ? { ...policy, taskQueue: callbackPostQueue(workflowInfo().taskQueue) } : policy,
    );
    const webhookId = callbackWebhookId(request.jobId);
    const delivery: CallbackDelivery = {
      url: request.url,
      webhookId,
      event: close.event,
      ...(request.receiver === undefined ? {} : { receiver: request.receiver }),
      ...(request.caller === undefined ? {} : { caller: request.caller }),
    };
    try {
      const answer = await postCallback(delivery);
      return { ...answer, webhookId, type: close.event.type };
    } catch (error) {
      if (!(error instanceof ActivityFailure)) throw error;
      // Retries ran out (callbacks.retryFor) or the receiver refused for good: a failure of its
      // own type, so operators can list the callbacks that were given up.
      throw fail('CallbackUndelivered', `the ${close.event.type} callback of ${request.jobId} was given up`, {
        cause: error,
      });
    }
  });
}

/** Returns once Temporal asks this workflow to cancel: its parent, the job, has closed. */
async function jobClosed(): Promise<void> {
  try {
    await condition(() => false);
  } catch (error) {
    if (!isCancellation(error)) throw error;
  }
}

/**
 * The job's final state. Woken while the job's latest run still runs (the run that started this
 * workflow continued as new, or somebody cancelled this workflow by hand), it reads again, each
 * wait longer, until the job closes.
 */
async function closedJob(request: CallbackRequest): Promise<Extract<JobClose, { status: 'CLOSED' }>> {
  let close = await readJobClose(request);
  for (let waitMs = 1_000; close.status === 'RUNNING'; waitMs = Math.min(waitMs * 2, maxRecheckMs)) {
    if (workflowInfo().continueAsNewSuggested) await continueAsNew<typeof deliverCallback>({ ...request, woken: true });
    await sleep(waitMs);
    close = await readJobClose(request);
  }
  return close;
}
