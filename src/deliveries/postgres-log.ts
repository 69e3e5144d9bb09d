// The delivery log in PostgreSQL, shared by every bridge replica: one row per record in
// `webhook_deliveries`, created at open.
//
// Decisions:
//  - The schema is applied by every replica at start-up, inside a transaction holding an advisory
//    lock, because `CREATE TABLE IF NOT EXISTS` run by several sessions at once can still fail on
//    the catalog's unique indexes; with the lock the second replica waits and then finds the table.
//  - `id` sorts with the "C" collation (byte order), so `ORDER BY id` and `id < before` agree with
//    the ids' time order and with the in-memory log, whatever the database's locale.
//  - `received_at` is a timestamptz (for `since` and prune) and `received_at_iso` keeps the text
//    the caller gave, so a record reads back exactly as it was appended.
//  - Outcome and origin have no CHECK constraint: the table outlives a release, and a newer
//    replica writing a new outcome must not be refused by an older replica's schema.
//  - Every value is a query parameter; the SQL text is built only from fixed column names.
//  - An append is one multi-row `INSERT … ON CONFLICT (id) DO NOTHING` (a very large batch is sent
//    in chunks below PostgreSQL's parameter limit; a chunk that was sent stays even if a later one
//    fails, and sending the batch again is harmless).
//  - Prune runs in one transaction under a try-lock: if another replica is pruning, this one skips
//    (returns 0) instead of deleting the same rows concurrently.
//  - An idle connection that breaks (database restart, network) makes the pool emit `error`; that
//    is caught and handed to `onError` if given (the message names no secret), so it never crashes
//    the process; the next query opens a new connection. Timeouts make a stuck database fail a
//    call instead of hanging it.
import pg from 'pg';
import type { PoolClient } from 'pg';
import type { DeliveryLog, DeliveryOrigin, DeliveryOutcome, DeliveryRecord } from '../core/deliveries.js';
import type { GitEvent } from '../core/git-event.js';

export const deliveryLogSchema = `
CREATE TABLE IF NOT EXISTS webhook_deliveries (
  id              text COLLATE "C" PRIMARY KEY,
  received_at     timestamptz NOT NULL,
  received_at_iso text NOT NULL,
  provider        text NOT NULL,
  hook            text NOT NULL,
  delivery_id     text,
  event           text,
  repository      text,
  outcome         text NOT NULL,
  reason          text,
  detail          text,
  status          integer,
  job_id          text,
  run_id          text,
  route           text,
  body_sha256     text,
  body_bytes      bigint,
  origin          text NOT NULL,
  replay_of       text,
  requested_by    text,
  sample          jsonb,
  git_event       jsonb
);
CREATE INDEX IF NOT EXISTS webhook_deliveries_seen ON webhook_deliveries (provider, hook, delivery_id);
CREATE INDEX IF NOT EXISTS webhook_deliveries_received_at ON webhook_deliveries (received_at);
CREATE INDEX IF NOT EXISTS webhook_deliveries_outcome ON webhook_deliveries (outcome, id);
CREATE INDEX IF NOT EXISTS webhook_deliveries_repository ON webhook_deliveries (repository, id);
`;

/** Advisory lock keys: fixed numbers of our own (the bytes of "gh-dl-1" and "gh-dl-2"). */
const schemaLock = '29106466768825649';
const pruneLock = '29106466768825650';

const columns = [
  'id',
  'received_at',
  'received_at_iso',
  'provider',
  'hook',
  'delivery_id',
  'event',
  'repository',
  'outcome',
  'reason',
  'detail',
  'status',
  'job_id',
  'run_id',
  'route',
  'body_sha256',
  'body_bytes',
  'origin',
  'replay_of',
  'requested_by',
  'sample',
  'git_event',
] as const;
const casts: Partial<Record<(typeof columns)[number], string>> = {
  received_at: '::timestamptz',
  sample: '::jsonb',
  git_event: '::jsonb',
};
/** PostgreSQL takes at most 65,535 parameters per statement. */
const rowsPerInsert = Math.floor(60_000 / columns.length);
const selectColumns = columns.filter((c) => c !== 'received_at').join(', ');

interface Row {
  id: string;
  received_at_iso: string;
  provider: string;
  hook: string;
  delivery_id: string | null;
  event: string | null;
  repository: string | null;
  outcome: string;
  reason: string | null;
  detail: string | null;
  status: number | null;
  job_id: string | null;
  run_id: string | null;
  route: string | null;
  body_sha256: string | null;
  /** bigint arrives as text. */
  body_bytes: string | null;
  origin: string;
  replay_of: string | null;
  requested_by: string | null;
  sample: DeliveryRecord['sample'];
  git_event: GitEvent | null;
}

export interface PostgresDeliveryLogOptions {
  /** Pool size (default 5). */
  max?: number;
  /** Told about errors on idle connections, which are otherwise ignored (the pool replaces them). */
  onError?: (error: Error) => void;
}

export async function openPostgresDeliveryLog(
  url: string,
  options: PostgresDeliveryLogOptions = {},
): Promise<DeliveryLog> {
  const pool = new pg.Pool({
    connectionString: url,
    max: options.max ?? 5,
    application_name: 'gatehouse-delivery-log',
    connectionTimeoutMillis: 10_000,
    statement_timeout: 15_000,
  });
  pool.on('error', (error) => options.onError?.(error));
  try {
    await transaction(pool, async (client) => {
      await client.query(`SELECT pg_advisory_xact_lock(${schemaLock})`);
      await client.query(deliveryLogSchema);
    });
  } catch (error) {
    await pool.end().catch(() => undefined);
    throw error;
  }

  let ended: Promise<void> | undefined;
  return {
    kind: 'postgres',

    async append(records) {
      const batch = uniqueById(records);
      for (const record of batch) checkInstant(record.receivedAt);
      for (let start = 0; start < batch.length; start += rowsPerInsert) {
        const chunk = batch.slice(start, start + rowsPerInsert);
        const params: unknown[] = [];
        const tuples = chunk.map((record) => {
          const values = rowValues(record);
          const placeholders = columns.map((column, i) => `$${params.length + i + 1}${casts[column] ?? ''}`);
          params.push(...values);
          return `(${placeholders.join(', ')})`;
        });
        await pool.query(
          `INSERT INTO webhook_deliveries (${columns.join(', ')}) VALUES ${tuples.join(', ')} ON CONFLICT (id) DO NOTHING`,
          params,
        );
      }
    },

    async list(query) {
      checkCount(query.limit, 'limit');
      const params: unknown[] = [];
      const where: string[] = [];
      const add = (condition: (placeholder: string) => string, value: unknown) => {
        params.push(value);
        where.push(condition(`$${params.length}`));
      };
      if (query.provider !== undefined) add((p) => `provider = ${p}`, query.provider);
      if (query.hook !== undefined) add((p) => `hook = ${p}`, query.hook);
      if (query.outcome !== undefined) add((p) => `outcome = ${p}`, query.outcome);
      if (query.repository !== undefined) add((p) => `repository = ${p}`, query.repository);
      if (query.deliveryId !== undefined) add((p) => `delivery_id = ${p}`, query.deliveryId);
      if (query.since !== undefined) add((p) => `received_at >= ${p}::timestamptz`, checkInstant(query.since));
      if (query.before !== undefined) add((p) => `id < ${p}`, query.before);
      params.push(query.limit);
      const { rows } = await pool.query<Row>(
        `SELECT ${selectColumns} FROM webhook_deliveries
         ${where.length === 0 ? '' : `WHERE ${where.join(' AND ')}`}
         ORDER BY id DESC LIMIT $${params.length}`,
        params,
      );
      return rows.map(toRecord);
    },

    async get(id) {
      const { rows } = await pool.query<Row>(`SELECT ${selectColumns} FROM webhook_deliveries WHERE id = $1`, [id]);
      return rows[0] === undefined ? undefined : toRecord(rows[0]);
    },

    async seen(provider, hook, deliveryIds) {
      if (deliveryIds.length === 0) return new Set();
      const { rows } = await pool.query<{ delivery_id: string }>(
        `SELECT DISTINCT delivery_id FROM webhook_deliveries
         WHERE provider = $1 AND hook = $2 AND delivery_id = ANY($3::text[])`,
        [provider, hook, [...deliveryIds]],
      );
      return new Set(rows.map((row) => row.delivery_id));
    },

    async prune(olderThan, keep) {
      if (Number.isNaN(olderThan.getTime())) throw new RangeError('prune: olderThan is not a valid date');
      checkCount(keep, 'keep');
      return transaction(pool, async (client) => {
        const { rows } = await client.query<{ locked: boolean }>(
          `SELECT pg_try_advisory_xact_lock(${pruneLock}) AS locked`,
        );
        if (rows[0]?.locked !== true) return 0;
        const aged = await client.query('DELETE FROM webhook_deliveries WHERE received_at < $1::timestamptz', [
          olderThan.toISOString(),
        ]);
        // The (keep + 1)th newest and everything older; none when there are no more than `keep`.
        const surplus = await client.query(
          `DELETE FROM webhook_deliveries
           WHERE id <= (SELECT id FROM webhook_deliveries ORDER BY id DESC OFFSET $1 LIMIT 1)`,
          [keep],
        );
        return (aged.rowCount ?? 0) + (surplus.rowCount ?? 0);
      });
    },

    close() {
      ended ??= pool.end();
      return ended;
    },
  };
}

/** Runs `work` in a transaction on one connection; a connection that broke is dropped, not reused. */
async function transaction<T>(pool: pg.Pool, work: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  // A checked-out connection has no pool listener: one that breaks between queries would
  // otherwise emit an unhandled `error`.
  const onError = (error: Error) => {
    broken = error;
  };
  client.on('error', onError);
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch((rollbackError: Error) => {
      broken ??= rollbackError;
    });
    throw error;
  } finally {
    client.removeListener('error', onError);
    client.release(broken);
  }
}

function rowValues(r: DeliveryRecord): unknown[] {
  const values: Record<(typeof columns)[number], unknown> = {
    id: r.id,
    received_at: r.receivedAt,
    received_at_iso: r.receivedAt,
    provider: r.provider,
    hook: r.hook,
    delivery_id: r.deliveryId,
    event: r.event,
    repository: r.repository,
    outcome: r.outcome,
    reason: r.reason,
    detail: r.detail,
    status: r.status,
    job_id: r.jobId,
    run_id: r.runId,
    route: r.route,
    body_sha256: r.bodySha256,
    body_bytes: r.bodyBytes,
    origin: r.origin,
    replay_of: r.replayOf,
    requested_by: r.requestedBy,
    // Serialized here: node-postgres would send a JavaScript array as a PostgreSQL array.
    sample: r.sample === null ? null : JSON.stringify(r.sample),
    git_event: r.gitEvent === null ? null : JSON.stringify(r.gitEvent),
  };
  return columns.map((column) => values[column]);
}

function toRecord(row: Row): DeliveryRecord {
  return {
    id: row.id,
    receivedAt: row.received_at_iso,
    provider: row.provider,
    hook: row.hook,
    deliveryId: row.delivery_id,
    event: row.event,
    repository: row.repository,
    outcome: row.outcome as DeliveryOutcome,
    reason: row.reason,
    detail: row.detail,
    status: row.status,
    jobId: row.job_id,
    runId: row.run_id,
    route: row.route,
    bodySha256: row.body_sha256,
    bodyBytes: row.body_bytes === null ? null : Number(row.body_bytes),
    origin: row.origin as DeliveryOrigin,
    replayOf: row.replay_of,
    requestedBy: row.requested_by,
    sample: row.sample,
    gitEvent: row.git_event,
  };
}

/** The first record of each id in the batch (as the memory log keeps the first it is given). */
function uniqueById(records: readonly DeliveryRecord[]): DeliveryRecord[] {
  const ids = new Set<string>();
  return records.filter((record) => !ids.has(record.id) && ids.add(record.id));
}

/** Refuses what the memory log refuses, before PostgreSQL reads the text its own way. */
function checkInstant(text: string): string {
  if (Number.isNaN(Date.parse(text))) throw new RangeError(`not an ISO 8601 instant: ${JSON.stringify(text)}`);
  return text;
}

function checkCount(value: number, name: string): void {
  if (!Number.isInteger(value) || value < 0) throw new RangeError(`${name} must be a whole number >= 0`);
}
