// Listing jobs: a visibility query, each execution read back as a JobView without its outcome.
// Visibility may lag Temporal's own state by a moment; a read of one job describes it instead.
import { defaultPayloadConverter } from '@temporalio/common';
import type { google, temporal as proto } from '@temporalio/proto';
import type { JobView } from '../core/job-view.js';
import { ownerKey, routeKey, sourceKey } from '../core/search-attributes.js';
import type { TemporalGateway } from './gateway.js';
import { statusOfExecution } from './job-status.js';

export interface JobsPage {
  jobs: JobView[];
  /** Temporal's own token for the next page; null on the last. */
  nextPageToken: Uint8Array | null;
}

export async function listJobs(
  temporal: TemporalGateway,
  request: { query: string; pageSize: number; pageToken?: Uint8Array },
): Promise<JobsPage> {
  const response = await temporal.call((client) =>
    client.workflowService.listWorkflowExecutions({
      namespace: temporal.namespace,
      query: request.query,
      pageSize: request.pageSize,
      ...(request.pageToken === undefined ? {} : { nextPageToken: request.pageToken }),
    }),
  );
  const token = response.nextPageToken;
  return {
    jobs: response.executions.map(jobViewOfExecution),
    nextPageToken: token !== null && token !== undefined && token.length > 0 ? token : null,
  };
}

/** One execution as visibility lists it: route, owner and source from its search attributes. */
export function jobViewOfExecution(raw: proto.api.workflow.v1.IWorkflowExecutionInfo): JobView {
  const fields = raw.searchAttributes?.indexedFields ?? {};
  const keyword = (name: string) => {
    const payload = fields[name];
    return payload === undefined || payload === null ? '' : String(defaultPayloadConverter.fromPayload(payload));
  };
  const closeTime = timestamp(raw.closeTime);
  return {
    jobId: raw.execution?.workflowId ?? '',
    runId: raw.execution?.runId ?? '',
    route: keyword(routeKey.name),
    workflowType: raw.type?.name ?? '',
    source: keyword(sourceKey.name),
    owner: keyword(ownerKey.name),
    status: statusOfExecution(raw.status),
    startedAt: timestamp(raw.startTime) ?? '',
    ...(closeTime === undefined ? {} : { closedAt: closeTime }),
  };
}

function timestamp(value: google.protobuf.ITimestamp | null | undefined): string | undefined {
  if (value?.seconds === undefined || value.seconds === null) return undefined;
  const millis = Number(value.seconds) * 1000 + Math.floor((value.nanos ?? 0) / 1e6);
  return new Date(millis).toISOString();
}
