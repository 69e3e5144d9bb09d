// A CI run's progress log, asked of the workflow itself (its `status` query). A closed run's query
// is answered by a worker's replay: it costs a whole replay, so callers ask it as rarely as they can.
import type { FastifyBaseLogger } from 'fastify';
import { ciStatusQueryName, type CiProgress } from '../../core/ci-status.js';
import type { JobView } from '../../core/job-view.js';
import type { TemporalGateway } from '../../temporal/gateway.js';
import { readProgress } from './job-events.js';

/** The run's progress log, or undefined when the workflow cannot answer now (no worker, say). */
export async function queryProgress(
  temporal: TemporalGateway,
  view: Pick<JobView, 'jobId' | 'runId'>,
  signal: AbortSignal,
  log: FastifyBaseLogger,
): Promise<CiProgress[] | undefined> {
  try {
    const answer = await temporal.call(
      (client) => client.workflow.getHandle(view.jobId, view.runId).query<unknown>(ciStatusQueryName),
      { signal },
    );
    return readProgress(answer);
  } catch (error) {
    if (!signal.aborted) log.debug({ jobId: view.jobId, err: error }, 'status query not answered');
    return undefined;
  }
}
