// Reading one job: describe the workflow, check the caller may see it (a job they may not see is
// a 404, exactly like one that does not exist), and add the result or failure once it has closed.
import { WorkflowFailedError, WorkflowNotFoundError, type Client } from '@temporalio/client';
import { mayActOnJob, type AccessRules, type Caller } from '../../core/access.js';
import type { JobMemo } from '../../core/identity.js';
import { contractStatus } from '../../core/job-status.js';
import { sourceKey } from '../../core/search-attributes.js';
import { GatehouseError } from '../errors.js';
import type { TemporalGateway } from '../temporal/temporal-plugin.js';
import { isTemporalUnavailable } from '../temporal/unavailable.js';
import { readMemo } from './job-memo.js';
import type { JobSummary } from './list-jobs.js';

export interface JobFailure {
  message: string;
  type?: string;
}

/** A job summary plus, once it has closed, its outcome. */
export interface JobView extends JobSummary {
  result?: unknown;
  failure?: JobFailure;
}

export interface VisibleJob {
  memo: JobMemo;
  view: JobView;
}

export function jobNotFound(): GatehouseError {
  return new GatehouseError('GATEHOUSE_JOB_NOT_FOUND', 'There is no job with this id that you may see');
}

/** Describes a job the caller may see, or throws the 404 that hides its existence. */
export async function findJob(
  temporal: TemporalGateway,
  jobId: string,
  caller: Caller,
  rules: AccessRules,
): Promise<VisibleJob> {
  let description;
  try {
    description = await temporal.call((client) => client.workflow.getHandle(jobId).describe());
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) throw jobNotFound();
    throw error;
  }
  const memo = readMemo(description.memo);
  if (memo === undefined || !mayActOnJob(caller, memo.identity.principal, rules)) throw jobNotFound();
  const source = description.typedSearchAttributes.getAll().find((pair) => pair.key.name === sourceKey.name)?.value;
  return {
    memo,
    view: {
      jobId,
      runId: description.runId,
      route: memo.request.route,
      workflowType: description.type,
      source: typeof source === 'string' ? source : 'api',
      owner: memo.identity.principal,
      status: contractStatus(description.status.name),
      startedAt: description.startTime.toISOString(),
      ...(description.closeTime === undefined ? {} : { closedAt: description.closeTime.toISOString() }),
    },
  };
}

export async function readJob(
  temporal: TemporalGateway,
  jobId: string,
  caller: Caller,
  rules: AccessRules,
): Promise<JobView> {
  const { view } = await findJob(temporal, jobId, caller, rules);
  return withOutcome(temporal, view);
}

/** A closed job's result or failure is one more call; a running job needs none. */
async function withOutcome(temporal: TemporalGateway, view: JobView): Promise<JobView> {
  if (view.status === 'RUNNING') return view;
  return { ...view, ...(await temporal.call((client) => outcome(client, view.jobId, view.runId))) };
}

/**
 * Long-poll: wait until the job closes, `waitMs` passes or the client goes away, then read it.
 * Visibility is checked before waiting, so a hidden job answers 404 at once.
 */
export async function waitForJob(
  temporal: TemporalGateway,
  jobId: string,
  caller: Caller,
  rules: AccessRules,
  waitMs: number,
  clientGone: AbortSignal,
): Promise<JobView> {
  const { view } = await findJob(temporal, jobId, caller, rules);
  // No wait, or nothing to wait for: answer from this one describe.
  if (view.status !== 'RUNNING' || waitMs <= 0) return withOutcome(temporal, view);
  const signal = AbortSignal.any([AbortSignal.timeout(waitMs), clientGone]);
  try {
    await temporal.client.withAbortSignal(signal, () => temporal.client.workflow.getHandle(jobId, view.runId).result());
  } catch (error) {
    // Closing with a failure, the wait ending and the client leaving all end the wait alike; only
    // an outage that outlives the wait is worth reporting, and the read below reports it.
    if (!signal.aborted && isTemporalUnavailable(error)) throw error;
  }
  return readJob(temporal, jobId, caller, rules);
}

async function outcome(client: Client, jobId: string, runId: string): Promise<Pick<JobView, 'result' | 'failure'>> {
  try {
    // followRuns false: report this run's outcome, not a later run of a continued-as-new chain.
    return { result: await client.workflow.getHandle(jobId, runId, { followRuns: false }).result() };
  } catch (error) {
    if (!(error instanceof WorkflowFailedError)) throw error;
    return { failure: rootFailure(error) };
  }
}

/**
 * The failure a caller can act on: the innermost one with a `type` (an ApplicationFailure thrown
 * by the workflow or by an activity), not the wrappers around it ("Activity task failed").
 */
function rootFailure(error: Error): JobFailure {
  let typed: JobFailure | undefined;
  let innermost: Error = error;
  for (let current: unknown = error.cause; current instanceof Error; current = current.cause) {
    innermost = current;
    if ('type' in current && typeof current.type === 'string' && current.type !== '')
      typed = { message: current.message, type: current.type };
  }
  return typed ?? { message: innermost.message };
}
