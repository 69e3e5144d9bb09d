// Billing activities: a usage ledger in PostgreSQL SQL (embedded PGlite by default, a real
// PostgreSQL when configured). Writes are exactly-once under activity retries: each row's primary
// key is the idempotency key of the *logical* operation (job id, run id, metric), which a retried
// attempt repeats, so `ON CONFLICT DO NOTHING` keeps one row whatever happens between attempts.
// Each write is a `ledger.write` span (the metric, and whether this attempt recorded the row).
import { SpanKind } from '@opentelemetry/api';
import { ownerScope, type AccessRules } from '../src/core/access.js';
import { fail } from '../src/core/failures.js';
import type { Identity } from '../src/core/identity.js';
import { inSpan } from './tracing.js';

/** What both PGlite and node-postgres offer. */
export interface SqlClient {
  query<T = Record<string, unknown>>(text: string, params?: unknown[]): Promise<{ rows: T[] }>;
}

export const ledgerSchema = `
CREATE TABLE IF NOT EXISTS usage_ledger (
  entry_key   text PRIMARY KEY,
  owner       text NOT NULL,
  route       text NOT NULL,
  repository  text,
  job_id      text NOT NULL,
  metric      text NOT NULL CHECK (metric IN ('jobs', 'run_seconds')),
  quantity    numeric NOT NULL CHECK (quantity >= 0),
  recorded_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS usage_ledger_owner_time ON usage_ledger (owner, recorded_at);
`;

export interface UsageEntry {
  /** The logical operation's key: the same for every attempt of the same write. */
  entryKey: string;
  owner: string;
  route: string;
  repository?: string;
  jobId: string;
  metric: 'jobs' | 'run_seconds';
  quantity: number;
}

export interface UsageQuery {
  /** Whose usage (a principal); absent means the caller's own. Another owner, or `*`, needs an admin. */
  owner?: string;
  from: string;
  to: string;
  /** Totals also split by route and/or by calendar month (UTC, `YYYY-MM`). */
  by?: Array<'route' | 'month'>;
}

export interface UsageTotals {
  from: string;
  to: string;
  totals: Array<{ owner: string; metric: string; quantity: number; route?: string; month?: string }>;
}

export function createBillingActivities(db: SqlClient, rules: AccessRules) {
  return {
    async recordUsage(entry: UsageEntry): Promise<{ recorded: boolean }> {
      const attributes = {
        'db.system': 'postgresql',
        'db.operation.name': 'INSERT',
        'db.collection.name': 'usage_ledger',
        'gatehouse.ledger.metric': entry.metric,
      };
      return inSpan('ledger.write', { kind: SpanKind.CLIENT, attributes }, async (span) => {
        const { rows } = await db.query(
          `INSERT INTO usage_ledger (entry_key, owner, route, repository, job_id, metric, quantity)
           VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (entry_key) DO NOTHING RETURNING entry_key`,
          [
            entry.entryKey,
            entry.owner,
            entry.route,
            entry.repository ?? null,
            entry.jobId,
            entry.metric,
            entry.quantity,
          ],
        );
        span.setAttribute('gatehouse.ledger.recorded', rows.length === 1);
        return { recorded: rows.length === 1 };
      });
    },

    async queryUsage(query: UsageQuery, identity: Identity): Promise<UsageTotals> {
      const owner = ownerScope(identity, query.owner, rules);
      if (owner === undefined) throw fail('BillingAccessDenied', "only admins may read another owner's usage");
      if (Number.isNaN(Date.parse(query.from)) || Number.isNaN(Date.parse(query.to))) {
        throw fail('BillingQueryInvalid', 'from and to must be ISO dates');
      }
      // The grouping columns are chosen from two fixed expressions, never from the caller's text.
      const byRoute = query.by?.includes('route') === true;
      const byMonth = query.by?.includes('month') === true;
      const route = byRoute ? 'route' : 'NULL::text';
      const month = byMonth ? `to_char(recorded_at AT TIME ZONE 'UTC', 'YYYY-MM')` : 'NULL::text';
      const { rows } = await db.query<{
        owner: string;
        metric: string;
        quantity: string;
        route: string | null;
        month: string | null;
      }>(
        `SELECT owner, metric, ${route} AS route, ${month} AS month, SUM(quantity)::text AS quantity
         FROM usage_ledger
         WHERE recorded_at >= $1 AND recorded_at < $2 AND ($3::text = '*' OR owner = $3)
         GROUP BY 1, 2, 3, 4 ORDER BY owner, month, route, metric`,
        [query.from, query.to, owner],
      );
      return {
        from: query.from,
        to: query.to,
        totals: rows.map((r) => ({
          owner: r.owner,
          metric: r.metric,
          quantity: Number(r.quantity),
          ...(byRoute && r.route !== null ? { route: r.route } : {}),
          ...(byMonth && r.month !== null ? { month: r.month } : {}),
        })),
      };
    },
  };
}
