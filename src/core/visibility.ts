// Visibility queries (Temporal's list filter language), built in one place so that every value is
// quoted the same way: a subject or ref cannot inject clauses into a listing.
import { deliveryKey, ownerKey, refKey, repositoryKey, rerunOfKey, routeKey, sourceKey } from './search-attributes.js';
import { everyOwner } from './access.js';
import type { JobStatus } from './job-status.js';

/** The visibility query language names statuses in CamelCase. */
const queryStatus: Record<JobStatus, string> = {
  RUNNING: 'Running',
  COMPLETED: 'Completed',
  FAILED: 'Failed',
  CANCELED: 'Canceled',
  TERMINATED: 'Terminated',
  TIMED_OUT: 'TimedOut',
  CONTINUED_AS_NEW: 'ContinuedAsNew',
};

/** A string literal for the visibility query: quotes and backslashes escaped. */
export function quote(value: string): string {
  return `'${value.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;
}

export interface JobFilter {
  /**
   * Whose jobs (a principal), or `*` (everyOwner, admins only): every Gatehouse job. Absent only
   * for admin lookups by delivery.
   */
  owner?: string;
  delivery?: string;
  route?: string;
  status?: JobStatus;
  /** `api` or a provider's name. */
  source?: string;
  repository?: string;
  /** Reruns of this job (GatehouseRerunOf). */
  rerunOf?: string;
}

export function jobsQuery(filter: JobFilter): string {
  const clauses: string[] = [];
  // `*` still names only Gatehouse's jobs: other workflows (the reconciler's checks) have no owner.
  if (filter.owner === everyOwner) clauses.push(`${ownerKey.name} IS NOT NULL`);
  else if (filter.owner !== undefined) clauses.push(`${ownerKey.name} = ${quote(filter.owner)}`);
  if (filter.delivery !== undefined) clauses.push(`${deliveryKey.name} = ${quote(filter.delivery)}`);
  // Never an open query: every listing is scoped to an owner (or every owner) or a delivery.
  if (clauses.length === 0) throw new RangeError('a job listing needs an owner or a delivery');
  if (filter.route !== undefined) clauses.push(`${routeKey.name} = ${quote(filter.route)}`);
  if (filter.status !== undefined) clauses.push(`ExecutionStatus = ${quote(queryStatus[filter.status])}`);
  if (filter.source !== undefined) clauses.push(`${sourceKey.name} = ${quote(filter.source)}`);
  if (filter.repository !== undefined) clauses.push(`${repositoryKey.name} = ${quote(filter.repository)}`);
  if (filter.rerunOf !== undefined) clauses.push(`${rerunOfKey.name} = ${quote(filter.rerunOf)}`);
  return clauses.join(' AND ');
}

/** Running runs of a workflow type with the same concurrency key, started before `startedBefore`. */
export function supersededQuery(input: {
  ref: string;
  workflowType: string;
  workflowId: string;
  startedBefore: string;
}): string {
  return [
    `${refKey.name} = ${quote(input.ref)}`,
    `ExecutionStatus = 'Running'`,
    `WorkflowType = ${quote(input.workflowType)}`,
    `StartTime < ${quote(input.startedBefore)}`,
    `WorkflowId != ${quote(input.workflowId)}`,
  ].join(' AND ');
}
