// "List my jobs": a visibility query on GatehouseOwner (src/core/visibility.ts), with optional route and status filters,
// paginated with Temporal's own page token wrapped so that it only works for the same query.
// @temporalio/proto is CommonJS whose named exports Node's ESM loader cannot detect: default import.
import protos, { type google, type temporal } from '@temporalio/proto';
import { defaultPayloadConverter } from '@temporalio/common';
import { contractStatus } from '../../core/job-status.js';
import { ownerKey, routeKey, sourceKey } from '../../core/search-attributes.js';
import { jobsQuery, type JobFilter } from '../../core/visibility.js';
import { GatehouseError } from '../errors.js';
import type { TemporalGateway } from '../temporal/temporal-plugin.js';
import { digest } from './job-id.js';

export interface ListJobsQuery extends JobFilter {
  pageSize: number;
  pageToken?: string;
}

export interface JobSummary {
  jobId: string;
  runId: string;
  route: string;
  workflowType: string;
  source: string;
  owner: string;
  status: string;
  startedAt: string;
  closedAt?: string;
}

export async function listJobs(
  temporal: TemporalGateway,
  query: ListJobsQuery,
): Promise<{ jobs: JobSummary[]; nextPageToken: string | null }> {
  const visibilityQuery = jobsQuery(query);
  const fingerprint = digest([visibilityQuery]);
  const response = await temporal.call((client) =>
    client.workflowService.listWorkflowExecutions({
      namespace: temporal.namespace,
      query: visibilityQuery,
      pageSize: query.pageSize,
      ...(query.pageToken === undefined ? {} : { nextPageToken: openPageToken(query.pageToken, fingerprint) }),
    }),
  );
  const token = response.nextPageToken;
  return {
    jobs: response.executions.map(toSummary),
    nextPageToken: token !== null && token !== undefined && token.length > 0 ? sealPageToken(token, fingerprint) : null,
  };
}

function sealPageToken(token: Uint8Array, fingerprint: string): string {
  return Buffer.from(JSON.stringify({ q: fingerprint, t: Buffer.from(token).toString('base64') })).toString(
    'base64url',
  );
}

function openPageToken(sealed: string, fingerprint: string): Uint8Array {
  try {
    const { q, t } = JSON.parse(Buffer.from(sealed, 'base64url').toString('utf8')) as { q?: unknown; t?: unknown };
    if (q === fingerprint && typeof t === 'string') return Buffer.from(t, 'base64');
  } catch {
    // fall through: a token we did not issue
  }
  throw new GatehouseError(
    'GATEHOUSE_INVALID_PAGE_TOKEN',
    'The page token does not belong to this query; start again without it',
  );
}

type RawExecution = temporal.api.workflow.v1.IWorkflowExecutionInfo;
const { WorkflowExecutionStatus } = protos.temporal.api.enums.v1;

function toSummary(raw: RawExecution): JobSummary {
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
    status: statusName(raw.status),
    startedAt: timestamp(raw.startTime) ?? '',
    ...(closeTime === undefined ? {} : { closedAt: closeTime }),
  };
}

function statusName(status: temporal.api.enums.v1.WorkflowExecutionStatus | null | undefined): string {
  const name = WorkflowExecutionStatus[status ?? 0] ?? 'UNSPECIFIED';
  return contractStatus(name.replace(/^WORKFLOW_EXECUTION_STATUS_/, ''));
}

function timestamp(value: google.protobuf.ITimestamp | null | undefined): string | undefined {
  if (value?.seconds === undefined || value.seconds === null) return undefined;
  const millis = Number(value.seconds) * 1000 + Math.floor((value.nanos ?? 0) / 1e6);
  return new Date(millis).toISOString();
}
