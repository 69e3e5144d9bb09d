// A job as every door shows it: GET /v1/jobs/{jobId}, a row of GET /v1/jobs (without an outcome),
// the event stream's `status` events and a completion callback's `data`. One shape, so a callback
// says exactly what a read after the close would have said.

/** How a closed job's failure is reported: the innermost typed failure, not its wrappers. */
export interface JobFailure {
  message: string;
  type?: string;
}

export interface JobView {
  jobId: string;
  runId: string;
  route: string;
  workflowType: string;
  source: string;
  owner: string;
  /** A status of core/job-status.ts, as Temporal reported it. */
  status: string;
  startedAt: string;
  closedAt?: string;
  /** Once the job has completed. */
  result?: unknown;
  /** Once the job has failed, timed out or was cancelled or terminated with details. */
  failure?: JobFailure;
}

/** The fields a job knows of itself from its start: what no later read can change. */
export type JobOrigin = Pick<JobView, 'route' | 'workflowType' | 'source' | 'owner'>;
