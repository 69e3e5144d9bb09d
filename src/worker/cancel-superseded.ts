// Finds the CI runs a newer one supersedes: running ciPipeline workflows with the same
// concurrency key (GatehouseRef) that started before the newer one, and requests their
// cancellation (they report their commit status as cancelled and record usage as they wind down).
import type { Client } from '@temporalio/client';
import { supersededQuery } from '../core/visibility.js';

export async function cancelSupersededRuns(
  client: Client,
  input: { ref: string; workflowId: string; startedBefore: string },
): Promise<string[]> {
  const query = supersededQuery({ ...input, workflowType: 'ciPipeline' });
  const cancelled: string[] = [];
  for await (const execution of client.workflow.list({ query })) {
    await client.workflow.getHandle(execution.workflowId, execution.runId).cancel();
    cancelled.push(execution.workflowId);
  }
  return cancelled;
}
