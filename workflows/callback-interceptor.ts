// The callback interceptor: bundled with every workflow (src/worker/bundle-workflows.ts), it acts
// only for a job whose memo names a callback (src/core/callbacks.ts). Before the job's own code
// runs, it starts the child workflow deliverCallback and waits until Temporal has started it, so
// the callback exists before the job can do anything, let alone close. No route workflow changes.
//
// Why at the start rather than when the job's code returns: a terminated or timed-out job runs
// no more code of its own, but its children's parent close policy still applies. The child, with
// REQUEST_CANCEL, is asked to cancel whichever way the job closes, and reads the outcome from
// Temporal then. Started in a non-cancellable scope with cancellation type ABANDON, the job's own
// cancellation never reaches it: only the job's close does.
//
// A child with the id `<jobId>.callback` that already exists (a run continued as new, or a reset
// run) is the job's callback already: it follows the job's latest run, and the run goes on.
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import {
  CancellationScope,
  patched,
  startChild,
  workflowInfo,
  type Next,
  type WorkflowExecuteInput,
  type WorkflowInboundCallsInterceptor,
  type WorkflowInterceptorsFactory,
} from '@temporalio/workflow';
import {
  callbackWorkflowId,
  callbackWorkflowType,
  readCallbackMemo,
  type CallbackMemo,
  type CallbackRequest,
} from '../src/core/callbacks.js';
import { readMemo } from '../src/core/job-memo.js';
import { sourceKey } from '../src/core/search-attributes.js';

const callbackPatch = 'gatehouse-callback';

class CallbackInterceptor implements WorkflowInboundCallsInterceptor {
  async execute(input: WorkflowExecuteInput, next: Next<WorkflowInboundCallsInterceptor, 'execute'>): Promise<unknown> {
    const callback = readCallbackMemo(workflowInfo().memo);
    // Marked in the history, so a job first run by a worker without this interceptor (a rolling
    // update) replays without it on a newer one instead of failing as nondeterministic.
    if (callback !== undefined && patched(callbackPatch)) await startCallback(callback);
    return next(input);
  }
}

async function startCallback(callback: CallbackMemo): Promise<void> {
  const info = workflowInfo();
  const memo = readMemo(info.memo);
  const source = info.typedSearchAttributes.get(sourceKey);
  // The receiver and, when the caller named it, the caller's groups: the delivering worker asks
  // callbacks.receivers again with them before each attempt. (Only the child's input changes with
  // them, not the commands, so histories from before replay as they were.)
  const args: CallbackRequest = {
    jobId: info.workflowId,
    url: callback.url,
    ...(callback.receiver === undefined ? {} : { receiver: callback.receiver }),
    ...(callback.origin === 'header' ? { caller: { groups: memo?.identity.groups ?? [] } } : {}),
    job: {
      route: memo?.request.route ?? '',
      workflowType: info.workflowType,
      source: source ?? 'api',
      owner: memo?.identity.principal ?? '',
    },
  };
  try {
    await CancellationScope.nonCancellable(() =>
      startChild(callbackWorkflowType, {
        workflowId: callbackWorkflowId(info.workflowId),
        taskQueue: callback.taskQueue ?? info.taskQueue,
        args: [args],
        parentClosePolicy: 'REQUEST_CANCEL',
        cancellationType: 'ABANDON',
      }),
    );
  } catch (error) {
    if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
  }
}

export const interceptors: WorkflowInterceptorsFactory = () => ({ inbound: [new CallbackInterceptor()] });
