// Describing a job: its latest run (or a given one) as a JobView, read from Temporal itself, not
// from visibility, which may lag. Who may see it is the caller's to decide, from the memo.
import { WorkflowNotFoundError, type WorkflowExecutionDescription } from '@temporalio/client';
import type { JobMemo } from '../core/identity.js';
import { readMemo } from '../core/job-memo.js';
import type { JobView } from '../core/job-view.js';
import { ownerKey, routeKey, sourceKey } from '../core/search-attributes.js';
import type { CallBudget, TemporalGateway } from './gateway.js';
import { contractStatus } from './job-status.js';

export interface DescribedJob {
  view: JobView;
  /** The Gatehouse memo; undefined for a workflow started without one, which is nobody's job. */
  memo: JobMemo | undefined;
  /** The memo as stored, for entries of its own (the callback). */
  rawMemo: Record<string, unknown>;
  /**
   * The first run of the job's chain, whose input is what its caller sent: a run that continued as
   * new started from what the workflow passed on, not from the request.
   */
  firstRunId: string;
}

/** Undefined when Temporal holds no such workflow (never started, or past the namespace's retention). */
export async function describeJob(
  temporal: TemporalGateway,
  jobId: string,
  options: { runId?: string; budget?: CallBudget } = {},
): Promise<DescribedJob | undefined> {
  try {
    const description = await temporal.call(
      (client) => client.workflow.getHandle(jobId, options.runId).describe(),
      options.budget,
    );
    return describedJob(jobId, description);
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) return undefined;
    throw error;
  }
}

/**
 * The view of a description. Route and owner come from the memo, the source from its search
 * attribute; without a memo (nobody's job) the search attributes say what they can.
 */
export function describedJob(
  jobId: string,
  description: Pick<
    WorkflowExecutionDescription,
    'memo' | 'runId' | 'type' | 'status' | 'startTime' | 'closeTime' | 'typedSearchAttributes' | 'raw'
  >,
): DescribedJob {
  const rawMemo = description.memo ?? {};
  const memo = readMemo(rawMemo);
  const keyword = (name: string) => {
    const value = description.typedSearchAttributes.getAll().find((pair) => pair.key.name === name)?.value;
    return typeof value === 'string' ? value : undefined;
  };
  return {
    memo,
    rawMemo,
    firstRunId: description.raw.workflowExecutionInfo?.firstRunId || description.runId,
    view: {
      jobId,
      runId: description.runId,
      route: memo?.request.route ?? keyword(routeKey.name) ?? '',
      workflowType: description.type,
      source: keyword(sourceKey.name) ?? 'api',
      owner: memo?.identity.principal ?? keyword(ownerKey.name) ?? '',
      status: contractStatus(description.status.name),
      startedAt: description.startTime.toISOString(),
      ...(description.closeTime === undefined ? {} : { closedAt: description.closeTime.toISOString() }),
    },
  };
}
