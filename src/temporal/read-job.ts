// A job's latest run as GET /v1/jobs/{jobId} shows it, outcome included, whoever asks: the worker
// reads it for a completion callback, so a callback says exactly what a read would have said.
import type { JobView } from '../core/job-view.js';
import { describeJob } from './describe-job.js';
import type { CallBudget, TemporalGateway } from './gateway.js';
import { withOutcome } from './job-outcome.js';

/** Undefined when Temporal holds no such workflow (never started, or past the namespace's retention). */
export async function readJob(
  temporal: TemporalGateway,
  jobId: string,
  budget?: CallBudget,
): Promise<JobView | undefined> {
  const job = await describeJob(temporal, jobId, budget === undefined ? {} : { budget });
  return job === undefined ? undefined : withOutcome(temporal, job.view, budget);
}
