// A run's status as Temporal names it, spelled as the API spells it (src/core/job-status.ts).
// @temporalio/proto is CommonJS whose named exports Node's ESM loader cannot detect: default import.
import protos, { type temporal } from '@temporalio/proto';

const { WorkflowExecutionStatus } = protos.temporal.api.enums.v1;

/** The SDK spells one status CANCELLED; the API (and Temporal's own enum) say CANCELED. */
export function contractStatus(name: string): string {
  return name === 'CANCELLED' ? 'CANCELED' : name;
}

/** The API's status for the raw enum value visibility answers with. */
export function statusOfExecution(status: temporal.api.enums.v1.WorkflowExecutionStatus | null | undefined): string {
  const name = WorkflowExecutionStatus[status ?? 0] ?? 'UNSPECIFIED';
  return contractStatus(name.replace(/^WORKFLOW_EXECUTION_STATUS_/, ''));
}
