// Finds the CI runs a newer one supersedes: running ciPipeline workflows with the same
// concurrency key (GatehouseRef) that started before the newer one, and requests their
// cancellation (they report their commit status as cancelled and record usage as they wind down).
// Each call runs under the gateway's deadline, so an unanswering Temporal fails the activity,
// which its retry policy tries again, rather than holding its slot.
import { supersededQuery } from '../core/visibility.js';
import type { TemporalGateway } from '../temporal/gateway.js';

export async function cancelSupersededRuns(
  temporal: TemporalGateway,
  input: { ref: string; workflowId: string; startedBefore: string },
): Promise<string[]> {
  const query = supersededQuery({ ...input, workflowType: 'ciPipeline' });
  // A ref has a handful of running pipelines at most: listed in one call.
  const runs = await temporal.call(async (client) => {
    const found: Array<{ workflowId: string; runId: string }> = [];
    for await (const { workflowId, runId } of client.workflow.list({ query })) found.push({ workflowId, runId });
    return found;
  });
  const cancelled: string[] = [];
  for (const run of runs) {
    await temporal.call((client) => client.workflow.getHandle(run.workflowId, run.runId).cancel());
    cancelled.push(run.workflowId);
  }
  return cancelled;
}
