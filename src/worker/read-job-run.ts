// A job's latest run as Temporal holds it, for its completion callback: the same fields, read the
// same way, as the jobs API's GET /v1/jobs/{jobId} (src/bridge/jobs/read-job.ts), so a callback
// says exactly what a read after the close would have said.
import { WorkflowFailedError, WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { JobRun } from '../core/callbacks.js';
import { rootFailure } from '../core/job-failure.js';
import { contractStatus } from '../core/job-status.js';

/** undefined: Temporal has no such workflow (never started, or past the namespace's retention). */
export async function readJobRun(client: Client, jobId: string): Promise<JobRun | undefined> {
  let description;
  try {
    description = await client.workflow.getHandle(jobId).describe();
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) return undefined;
    throw error;
  }
  const run: JobRun = {
    runId: description.runId,
    status: contractStatus(description.status.name),
    startedAt: description.startTime.toISOString(),
    ...(description.closeTime === undefined ? {} : { closedAt: description.closeTime.toISOString() }),
  };
  if (run.status === 'RUNNING') return run;
  try {
    // followRuns false: this run's outcome, not a later run's.
    return { ...run, result: await client.workflow.getHandle(jobId, run.runId, { followRuns: false }).result() };
  } catch (error) {
    if (!(error instanceof WorkflowFailedError)) throw error;
    return { ...run, failure: rootFailure(error) };
  }
}
