// A job's input as its workflow received it: the first event of its run's history holds the one
// JobRequest argument every Gatehouse workflow takes. A rerun starts the route again with it; the
// bridge keeps no copy of its own.
import { defaultPayloadConverter } from '@temporalio/common';
import type { JobRequest } from '../../core/identity.js';
import type { TemporalGateway } from '../../temporal/gateway.js';

/** The run's input, or undefined when its first event carries no JobRequest (not a Gatehouse job). */
export async function readJobInput(temporal: TemporalGateway, jobId: string, runId: string): Promise<unknown> {
  const response = await temporal.call((client) =>
    client.workflowService.getWorkflowExecutionHistory({
      namespace: temporal.namespace,
      execution: { workflowId: jobId, runId },
      maximumPageSize: 1,
      skipArchival: true,
    }),
  );
  const payload = response.history?.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
  if (payload === undefined) return undefined;
  const request = defaultPayloadConverter.fromPayload<Partial<JobRequest> | null>(payload);
  return request !== null && typeof request === 'object' && 'input' in request ? request.input : undefined;
}
