// What one page of a run's history says to someone following the job: whether a workflow task
// completed (the only moment a workflow's queryable state can change), and whether the run closed,
// handing over to a next run (continued as new, retried, cron) or for good.
// @temporalio/proto is CommonJS whose named exports Node's ESM loader cannot detect: default import.
import protos, { type temporal as proto } from '@temporalio/proto';

const eventTypes = protos.temporal.api.enums.v1.EventType;
const closeEventTypes = new Set<number>([
  eventTypes.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED,
  eventTypes.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED,
  eventTypes.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED,
  eventTypes.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED,
  eventTypes.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT,
  eventTypes.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW,
]);

export interface HistoryPage {
  /** A workflow task completed in this page. */
  progressed: boolean;
  /** The run closed: `next` is the run it handed over to, undefined when it closed for good. */
  closed: { next: string | undefined } | undefined;
}

export function readHistoryPage(events: readonly proto.api.history.v1.IHistoryEvent[]): HistoryPage {
  const close = events.find((event) => closeEventTypes.has(event.eventType ?? 0));
  return {
    progressed: events.some((event) => event.eventType === eventTypes.EVENT_TYPE_WORKFLOW_TASK_COMPLETED),
    closed: close === undefined ? undefined : { next: nextRunId(close) },
  };
}

/** The run a close event hands over to (continued as new, retried, cron), if any. */
function nextRunId(event: proto.api.history.v1.IHistoryEvent): string | undefined {
  const next =
    event.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId ??
    event.workflowExecutionCompletedEventAttributes?.newExecutionRunId ??
    event.workflowExecutionFailedEventAttributes?.newExecutionRunId ??
    event.workflowExecutionTimedOutEventAttributes?.newExecutionRunId;
  return typeof next === 'string' && next !== '' ? next : undefined;
}
