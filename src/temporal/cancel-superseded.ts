// Finds the CI runs a newer push supersedes: running ciPipeline workflows with the same
// GatehouseRef (repository@branch) that started before the newer one, and requests their
// cancellation (they report their commit status as cancelled and record usage as they wind down).
import type { Client } from '@temporalio/client';
import { quote } from '../jobs/list-jobs.js';

export async function cancelSupersededRuns(client: Client, input: { ref: string; workflowId: string; startedBefore: string }): Promise<string[]> {
  const query = [
    `GatehouseRef = ${quote(input.ref)}`,
    `ExecutionStatus = 'Running'`,
    `WorkflowType = 'ciPipeline'`,
    `StartTime < ${quote(input.startedBefore)}`,
    `WorkflowId != ${quote(input.workflowId)}`,
  ].join(' AND ');
  const cancelled: string[] = [];
  for await (const execution of client.workflow.list({ query })) {
    await client.workflow.getHandle(execution.workflowId, execution.runId).cancel();
    cancelled.push(execution.workflowId);
  }
  return cancelled;
}
