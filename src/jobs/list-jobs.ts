// "List my jobs": a visibility query on GatehouseOwner, with optional route and status filters,
// paginated with Temporal's own page token wrapped so that it only works for the same query.
// @temporalio/proto is CommonJS whose named exports Node's ESM loader cannot detect: default import.
import protos, { type google, type temporal } from '@temporalio/proto';
import { defaultPayloadConverter } from '@temporalio/common';
import { GatehouseError } from '../errors.js';
import type { TemporalGateway } from '../temporal/temporal-plugin.js';
import { digest } from './job-id.js';

export const jobStatuses = ['RUNNING', 'COMPLETED', 'FAILED', 'CANCELED', 'TERMINATED', 'TIMED_OUT', 'CONTINUED_AS_NEW'] as const;
export type JobStatus = (typeof jobStatuses)[number];

/** The visibility query language names statuses in CamelCase. */
const queryStatus: Record<JobStatus, string> = {
  RUNNING: 'Running', COMPLETED: 'Completed', FAILED: 'Failed', CANCELED: 'Canceled',
  TERMINATED: 'Terminated', TIMED_OUT: 'TimedOut', CONTINUED_AS_NEW: 'ContinuedAsNew',
};

export interface ListJobsQuery {
  /** Whose jobs; absent only for admin lookups by delivery. */
  owner?: string;
  delivery?: string;
  route?: string;
  status?: JobStatus;
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

export async function listJobs(temporal: TemporalGateway, query: ListJobsQuery): Promise<{ jobs: JobSummary[]; nextPageToken: string | null }> {
  const visibilityQuery = buildVisibilityQuery(query);
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

export function buildVisibilityQuery(query: Pick<ListJobsQuery, 'owner' | 'delivery' | 'route' | 'status'>): string {
  const clauses: string[] = [];
  if (query.owner !== undefined) clauses.push(`GatehouseOwner = ${quote(query.owner)}`);
  if (query.delivery !== undefined) clauses.push(`GatehouseDelivery = ${quote(query.delivery)}`);
  // Never an open query: every listing is scoped to an owner or a delivery.
  if (clauses.length === 0) throw new RangeError('a job listing needs an owner or a delivery');
  if (query.route !== undefined) clauses.push(`GatehouseRoute = ${quote(query.route)}`);
  if (query.status !== undefined) clauses.push(`ExecutionStatus = ${quote(queryStatus[query.status])}`);
  return clauses.join(' AND ');
}

/** A string literal for the visibility query: quotes and backslashes escaped, so a subject cannot inject clauses. */
export function quote(value: string): string {
  return `'${value.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;
}

function sealPageToken(token: Uint8Array, fingerprint: string): string {
  return Buffer.from(JSON.stringify({ q: fingerprint, t: Buffer.from(token).toString('base64') })).toString('base64url');
}

function openPageToken(sealed: string, fingerprint: string): Uint8Array {
  try {
    const { q, t } = JSON.parse(Buffer.from(sealed, 'base64url').toString('utf8')) as { q?: unknown; t?: unknown };
    if (q === fingerprint && typeof t === 'string') return Buffer.from(t, 'base64');
  } catch {
    // fall through: a token we did not issue
  }
  throw new GatehouseError('GATEHOUSE_INVALID_PAGE_TOKEN', 'The page token does not belong to this query; start again without it');
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
    route: keyword('GatehouseRoute'),
    workflowType: raw.type?.name ?? '',
    source: keyword('GatehouseSource'),
    owner: keyword('GatehouseOwner'),
    status: statusName(raw.status),
    startedAt: timestamp(raw.startTime) ?? '',
    ...(closeTime === undefined ? {} : { closedAt: closeTime }),
  };
}

function statusName(status: temporal.api.enums.v1.WorkflowExecutionStatus | null | undefined): string {
  const name = WorkflowExecutionStatus[status ?? 0] ?? 'UNSPECIFIED';
  return name.replace(/^WORKFLOW_EXECUTION_STATUS_/, '');
}

function timestamp(value: google.protobuf.ITimestamp | null | undefined): string | undefined {
  if (value?.seconds === undefined || value.seconds === null) return undefined;
  const millis = Number(value.seconds) * 1000 + Math.floor((value.nanos ?? 0) / 1e6);
  return new Date(millis).toISOString();
}
