// What a page of a run's history tells a follower: a workflow task completed, the run handed over
// to a next run (continued as new, retried, cron), or closed for good.
// @temporalio/proto is CommonJS whose named exports Node's ESM loader cannot detect: default import.
import protos from '@temporalio/proto';
import { describe, expect, it } from 'vitest';
import { readHistoryPage } from '../../../src/temporal/run-history.js';

const types = protos.temporal.api.enums.v1.EventType;

describe('readHistoryPage', () => {
  it('notes a completed workflow task, and no close, in a running run', () => {
    const page = readHistoryPage([
      { eventType: types.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED },
      { eventType: types.EVENT_TYPE_WORKFLOW_TASK_COMPLETED },
    ]);
    expect(page).toEqual({ progressed: true, closed: undefined });
    expect(readHistoryPage([])).toEqual({ progressed: false, closed: undefined });
  });

  it('names the next run of a run that continued as new, was retried or is a cron', () => {
    const continued = readHistoryPage([
      { eventType: types.EVENT_TYPE_WORKFLOW_TASK_COMPLETED },
      {
        eventType: types.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW,
        workflowExecutionContinuedAsNewEventAttributes: { newExecutionRunId: 'run-2' },
      },
    ]);
    expect(continued).toEqual({ progressed: true, closed: { next: 'run-2' } });
    const retried = readHistoryPage([
      {
        eventType: types.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED,
        workflowExecutionFailedEventAttributes: { newExecutionRunId: 'run-3' },
      },
    ]);
    expect(retried.closed).toEqual({ next: 'run-3' });
    const timedOut = readHistoryPage([
      {
        eventType: types.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT,
        workflowExecutionTimedOutEventAttributes: { newExecutionRunId: 'run-4' },
      },
    ]);
    expect(timedOut.closed).toEqual({ next: 'run-4' });
  });

  it('takes every other close, and a close without a next run, as closed for good', () => {
    for (const eventType of [
      types.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED,
      types.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED,
      types.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED,
      types.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED,
      types.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT,
    ]) {
      expect(readHistoryPage([{ eventType }]).closed, String(eventType)).toEqual({ next: undefined });
    }
    const completed = readHistoryPage([
      {
        eventType: types.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED,
        workflowExecutionCompletedEventAttributes: { newExecutionRunId: '' },
      },
    ]);
    expect(completed.closed).toEqual({ next: undefined });
  });
});
