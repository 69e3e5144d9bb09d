// "List my jobs": a visibility query on GatehouseOwner (src/core/visibility.ts), with optional route
// and status filters, paginated with Temporal's own page token wrapped so that it only works for the
// same query.
import type { JobView } from '../../core/job-view.js';
import { jobsQuery, type JobFilter } from '../../core/visibility.js';
import type { TemporalGateway } from '../../temporal/gateway.js';
import { listJobs as listJobViews } from '../../temporal/list-jobs.js';
import { GatehouseError } from '../errors.js';
import { digest } from './derive-job-id.js';

export interface ListJobsQuery extends JobFilter {
  pageSize: number;
  pageToken?: string;
}

export async function listJobs(
  temporal: TemporalGateway,
  query: ListJobsQuery,
): Promise<{ jobs: JobView[]; nextPageToken: string | null }> {
  const visibilityQuery = jobsQuery(query);
  const fingerprint = digest([visibilityQuery]);
  const page = await listJobViews(temporal, {
    query: visibilityQuery,
    pageSize: query.pageSize,
    ...(query.pageToken === undefined ? {} : { pageToken: openPageToken(query.pageToken, fingerprint) }),
  });
  return {
    jobs: page.jobs,
    nextPageToken: page.nextPageToken === null ? null : sealPageToken(page.nextPageToken, fingerprint),
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
