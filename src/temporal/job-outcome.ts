// A closed run's outcome: its result, or the failure a caller can act on. Read from the run itself
// (not a later run of its continued-as-new chain), as one more call after describing it.
import { WorkflowFailedError } from '@temporalio/client';
import type { JobFailure, JobView } from '../core/job-view.js';
import type { CallBudget, TemporalGateway } from './gateway.js';

/**
 * The view with its outcome once it has closed. A running run needs no call, and a run that
 * continued as new has no outcome of its own (its successor will).
 */
export async function withOutcome(temporal: TemporalGateway, view: JobView, budget?: CallBudget): Promise<JobView> {
  if (view.status === 'RUNNING' || view.status === 'CONTINUED_AS_NEW') return view;
  const outcome = await temporal.call(async (client) => {
    try {
      // followRuns false: this run's outcome, not a later run's.
      return { result: await client.workflow.getHandle(view.jobId, view.runId, { followRuns: false }).result() };
    } catch (error) {
      if (!(error instanceof WorkflowFailedError)) throw error;
      return { failure: rootFailure(error) };
    }
  }, budget);
  return { ...view, ...outcome };
}

/**
 * The failure a caller can act on: the innermost one with a `type` (an ApplicationFailure thrown
 * by the workflow or by an activity), not the wrappers around it ("Activity task failed").
 */
export function rootFailure(error: Error): JobFailure {
  let typed: JobFailure | undefined;
  let innermost: Error = error;
  for (let current: unknown = error.cause; current instanceof Error; current = current.cause) {
    innermost = current;
    if ('type' in current && typeof current.type === 'string' && current.type !== '')
      typed = { message: current.message, type: current.type };
  }
  return typed ?? { message: innermost.message };
}
