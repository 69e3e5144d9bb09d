// The delivery log in PostgreSQL, shared by every bridge replica: one row per record in
// `webhook_deliveries`. Opening never waits for the database: a bridge must start, and answer
// webhooks, while PostgreSQL is down; until the log reaches it, a call rejects with
// DeliveryLogUnavailable and the caller keeps its records.
// Why it works as it does: docs/webhooks.md, "The delivery log in PostgreSQL".
import pg from 'pg';
import type { PoolClient } from 'pg';
import {
  DeliveryLogUnavailable,
  type DeliveryLog,
  type DeliveryOrigin,
  type DeliveryOutcome,
  type DeliveryRecord,
} from '../core/deliveries.js';
import type { GitEvent } from '../core/git-event.js';
import {
  describePostgresError as describe,
  isDataError,
  isUnreachable,
  reportLostConnections,
  sqlState,
} from './postgres-errors.js';
import { checkCaps, checkCount, instantMs, wellFormedQuery, wellFormedRecord, wellFormedText } from './records.js';

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
CREATE INDEX IF NOT EXISTS webhook_deliveries_body ON webhook_deliveries (provider, hook, body_sha256, id)
  WHERE origin = 'provider' AND body_sha256 IS NOT NULL AND sample IS NULL;
CREATE INDEX IF NOT EXISTS webhook_deliveries_samples ON webhook_deliveries (id) WHERE sample IS NOT NULL;
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
  /**
   * Told about the background connection attempts that failed (each is retried). The message is
   * a short description, never the connection string.
   */
  onError?: (error: Error) => void;
  /**
   * Told when a connection breaks (an idle one in the pool, or one a call holds): the database
   * restarted or dropped it. The pool drops it and opens another on next use. The message is a
   * short description, never the connection string.
   */
  onConnectionLost?: (error: Error) => void;
  /** Told how many records of an append PostgreSQL refused for their data, and why (the first reason). */
  onSkipped?: (count: number, reason: string) => void;
  /** The delay before the first retry of the background connection, doubled up to `maxMs`. */
  retry?: { firstMs?: number; maxMs?: number };
  /** Rows deleted per prune statement (default 5,000). */
  pruneBatchSize?: number;
}

const defaultRetry = { firstMs: 1_000, maxMs: 30_000 };
const defaultPruneBatchSize = 5_000;
/** How long close() waits for the pool to end. */
const closeWaitMs = 2_000;

/**
 * The log at once: it connects and applies the schema in the background, retrying until it is
 * closed. Until then, and while the database cannot be reached, calls reject with
 * DeliveryLogUnavailable.
 */
export function createPostgresDeliveryLog(url: string, options: PostgresDeliveryLogOptions = {}): DeliveryLog {
  const log = startPostgresDeliveryLog(url, options);
  void log.connect();
  return log.log;
}

/**
 * The log once its schema is in place (tests and benchmarks): rejects, and retries nothing, if the
 * database cannot be reached or refuses the schema now.
 */
export async function openPostgresDeliveryLog(
  url: string,
  options: PostgresDeliveryLogOptions = {},
): Promise<DeliveryLog> {
  const { log, connect } = startPostgresDeliveryLog(url, options);
  const failure = await connect();
  if (failure !== undefined) {
    await log.close();
    throw failure;
  }
  return log;
}

function startPostgresDeliveryLog(
  url: string,
  options: PostgresDeliveryLogOptions,
): { log: DeliveryLog; connect: () => Promise<Error | undefined> } {
  const pruneBatchSize = options.pruneBatchSize ?? defaultPruneBatchSize;
  checkCount(pruneBatchSize, 'pruneBatchSize');
  if (pruneBatchSize === 0) throw new RangeError('pruneBatchSize must be at least 1');
  const firstDelayMs = options.retry?.firstMs ?? defaultRetry.firstMs;
  const maxDelayMs = options.retry?.maxMs ?? defaultRetry.maxMs;
  const pool = new pg.Pool({
    connectionString: url,
    max: options.max ?? 5,
    application_name: 'gatehouse-delivery-log',
    connectionTimeoutMillis: 10_000,
    statement_timeout: 15_000,
  });
  const report = (error: unknown) => {
    try {
      options.onError?.(new Error(describe(error)));
    } catch {
      // A listener that throws must not take down the retry loop.
    }
  };
  const lost = reportLostConnections(pool, options.onConnectionLost);
  const withClient = <T>(work: (client: PoolClient) => Promise<T>) => onOneConnection(pool, lost, work);
  const transaction = <T>(work: (client: PoolClient) => Promise<T>) => inTransaction(withClient, work);

  let ready = false;
  let closed = false;
  let closing: Promise<void> | undefined;
  /** Why the log is not ready (the last failed attempt), for DeliveryLogUnavailable. */
  let problem = 'connecting to the database';
  let attempt: Promise<Error | undefined> | undefined;
  let retryTimer: NodeJS.Timeout | undefined;
  let delayMs = firstDelayMs;

  /** One attempt at applying the schema (joined if one is under way); a failure schedules the next. */
  const connect = (): Promise<Error | undefined> => {
    attempt ??= (async () => {
      try {
        await transaction(async (client) => {
          await client.query(`SELECT pg_advisory_xact_lock(${schemaLock})`);
          await client.query(deliveryLogSchema);
        });
        if (closed) return undefined;
        ready = true;
        delayMs = firstDelayMs;
        return undefined;
      } catch (error) {
        if (closed) return translate(error);
        problem = describe(error);
        report(error);
        retryTimer = setTimeout(() => {
          retryTimer = undefined;
          void connect();
        }, delayMs);
        retryTimer.unref();
        delayMs = Math.min(delayMs * 2, maxDelayMs);
        return translate(error);
      } finally {
        attempt = undefined;
      }
    })();
    return attempt;
  };

  /** Runs a call against the database, turning "cannot be reached" into DeliveryLogUnavailable. */
  const use = async <T>(work: () => Promise<T>): Promise<T> => {
    if (closed) throw new Error('the delivery log is closed');
    if (!ready) throw new DeliveryLogUnavailable(`the delivery log is not ready (${problem})`);
    try {
      return await work();
    } catch (error) {
      if (closed) throw new Error('the delivery log is closed');
      if (sqlState(error) === '42P01' && ready) {
        ready = false;
        problem = 'its table is missing; applying the schema again';
        void connect();
      }
      throw translate(error);
    }
  };

  /** Inserts the rows in one statement; returns the refusal if PostgreSQL refused them for their data. */
  const insert = async (rows: readonly DeliveryRecord[]): Promise<unknown> => {
    const params: unknown[] = [];
    const tuples = rows.map((record) => {
      const values = rowValues(record);
      const placeholders = columns.map((column, i) => `$${params.length + i + 1}${casts[column] ?? ''}`);
      params.push(...values);
      return `(${placeholders.join(', ')})`;
    });
    try {
      await pool.query(
        `INSERT INTO webhook_deliveries (${columns.join(', ')}) VALUES ${tuples.join(', ')} ON CONFLICT (id) DO NOTHING`,
        params,
      );
      return undefined;
    } catch (error) {
      if (isDataError(error)) return error;
      throw error;
    }
  };

  const log: DeliveryLog = {
    kind: 'postgres',

    async append(records) {
      const batch = uniqueById(records.map(wellFormedRecord));
      for (const record of batch) checkInstant(record.receivedAt);
      if (batch.length === 0) return;
      await use(async () => {
        let skipped = 0;
        let reason: string | undefined;
        for (let start = 0; start < batch.length; start += rowsPerInsert) {
          const chunk = batch.slice(start, start + rowsPerInsert);
          if ((await insert(chunk)) === undefined) continue;
          // Refused for its data: find the rows at fault and keep the others.
          for (const record of chunk) {
            const refusal = await insert([record]);
            if (refusal === undefined) continue;
            skipped += 1;
            reason ??= describe(refusal);
          }
        }
        if (skipped > 0) options.onSkipped?.(skipped, reason ?? 'refused');
      });
    },

    async list(raw) {
      checkCount(raw.limit, 'limit');
      const query = wellFormedQuery(raw);
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
      return use(async () => {
        const { rows } = await pool.query<Row>(
          `SELECT ${selectColumns} FROM webhook_deliveries
           ${where.length === 0 ? '' : `WHERE ${where.join(' AND ')}`}
           ORDER BY id DESC LIMIT $${params.length}`,
          params,
        );
        return rows.map(toRecord);
      });
    },

    async get(id) {
      return use(async () => {
        const { rows } = await pool.query<Row>(`SELECT ${selectColumns} FROM webhook_deliveries WHERE id = $1`, [
          wellFormedText(id),
        ]);
        return rows[0] === undefined ? undefined : toRecord(rows[0]);
      });
    },

    async seen(provider, hook, deliveryIds) {
      return use(async () => {
        if (deliveryIds.length === 0) return new Set<string>();
        // Asked with the raw ids, answered with them: a record holds the well-formed text.
        const asked = new Map<string, string[]>();
        for (const id of deliveryIds) {
          const stored = wellFormedText(id);
          asked.set(stored, [...(asked.get(stored) ?? []), id]);
        }
        const { rows } = await pool.query<{ delivery_id: string }>(
          `SELECT DISTINCT d.delivery_id FROM webhook_deliveries d
           WHERE d.provider = $1 AND d.hook = $2 AND d.delivery_id = ANY($3::text[])
             AND d.origin = 'provider' AND d.body_sha256 IS NOT NULL AND d.sample IS NULL
             AND NOT EXISTS (
               SELECT 1 FROM webhook_deliveries e
               WHERE e.provider = d.provider AND e.hook = d.hook AND e.body_sha256 = d.body_sha256
                 AND e.origin = 'provider' AND e.body_sha256 IS NOT NULL AND e.sample IS NULL
                 AND e.id < d.id)`,
          [wellFormedText(provider), wellFormedText(hook), [...asked.keys()]],
        );
        return new Set(rows.flatMap((row) => asked.get(row.delivery_id) ?? []));
      });
    },

    async prune(olderThan, keep) {
      if (Number.isNaN(olderThan.getTime())) throw new RangeError('prune: olderThan is not a valid date');
      checkCaps(keep);
      return use(() =>
        withClient(async (client) => {
          const { rows } = await client.query<{ locked: boolean }>(
            `SELECT pg_try_advisory_lock(${pruneLock}) AS locked`,
          );
          if (rows[0]?.locked !== true) return 0;
          try {
            const aged = await deleteInBatches(client, 'received_at < $1::timestamptz', olderThan.toISOString());
            let surplus = 0;
            for (const [kind, cap] of [
              ['sample IS NULL', keep.records],
              ['sample IS NOT NULL', keep.samples],
            ] as const) {
              // The (cap + 1)th newest of the kind and everything older; none when there are no more than `cap`.
              const boundary = await client.query<{ id: string }>(
                `SELECT id FROM webhook_deliveries WHERE ${kind} ORDER BY id DESC OFFSET $1 LIMIT 1`,
                [cap],
              );
              const boundaryId = boundary.rows[0]?.id;
              if (boundaryId !== undefined)
                surplus += await deleteInBatches(client, `${kind} AND id <= $1`, boundaryId);
            }
            return aged + surplus;
          } finally {
            // A failed unlock throws, and withClient then drops the connection, which frees the lock.
            await client.query(`SELECT pg_advisory_unlock(${pruneLock})`);
          }
        }),
      );
    },

    close() {
      closing ??= (async () => {
        closed = true;
        ready = false;
        if (retryTimer !== undefined) clearTimeout(retryTimer);
        let waited: NodeJS.Timeout | undefined;
        await Promise.race([
          pool.end().catch(() => undefined),
          new Promise<void>((resolve) => {
            waited = setTimeout(resolve, closeWaitMs);
            waited.unref();
          }),
        ]);
        clearTimeout(waited);
      })();
      return closing;
    },
  };

  /** Deletes the rows matching `condition` (on `$1`), oldest first, a batch per statement. */
  async function deleteInBatches(client: PoolClient, condition: string, value: string): Promise<number> {
    let total = 0;
    for (;;) {
      const { rowCount } = await client.query(
        `DELETE FROM webhook_deliveries WHERE id IN (
           SELECT id FROM webhook_deliveries WHERE ${condition} ORDER BY id LIMIT $2)`,
        [value, pruneBatchSize],
      );
      total += rowCount ?? 0;
      if ((rowCount ?? 0) < pruneBatchSize) return total;
    }
  }

  return { log, connect };
}

/** Runs `work` on one connection; a connection that broke, or whose work failed, is dropped, not reused. */
async function onOneConnection<T>(
  pool: pg.Pool,
  lost: (error: unknown) => void,
  work: (client: PoolClient) => Promise<T>,
): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  // A checked-out connection has no pool listener: one that breaks between queries would
  // otherwise emit an unhandled `error`.
  const onError = (error: Error) => {
    broken = error;
    lost(error);
  };
  client.on('error', onError);
  try {
    return await work(client);
  } catch (error) {
    broken ??= error instanceof Error ? error : new Error(String(error));
    throw error;
  } finally {
    client.removeListener('error', onError);
    client.release(broken);
  }
}

/** Runs `work` in a transaction on one connection; a connection whose work failed is dropped, not reused. */
async function inTransaction<T>(
  withClient: (work: (client: PoolClient) => Promise<T>) => Promise<T>,
  work: (client: PoolClient) => Promise<T>,
): Promise<T> {
  return withClient(async (client) => {
    await client.query('BEGIN');
    try {
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {});
      throw error;
    }
  });
}

/** The error a caller sees: DeliveryLogUnavailable when the database cannot be reached, else as it was. */
function translate(error: unknown): Error {
  if (isUnreachable(error))
    return new DeliveryLogUnavailable(`the delivery log's database cannot be reached (${describe(error)})`);
  return error instanceof Error ? error : new Error(String(error));
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
  instantMs(text);
  return text;
}
