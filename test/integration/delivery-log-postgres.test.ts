// The PostgreSQL delivery log against a real server: the shared store contract (each test on a
// database of its own), and what only a shared store must do: replicas opening it at the same
// moment, seeing each other's records, values that look like SQL staying values, a connection the
// server drops not taking the process down, a record the database refuses costing only itself,
// pruning in batches, and a log opened while the database is down that works once it is up. It
// needs PostgreSQL, not Temporal.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { DeliveryLogUnavailable, type DeliveryLog, type DeliveryRecord } from '../../src/core/deliveries.js';
import { Secret } from '../../src/core/secret.js';
import { openDeliveryLog } from '../../src/deliveries/open-delivery-log.js';
import { createPostgresDeliveryLog, openPostgresDeliveryLog } from '../../src/deliveries/postgres-log.js';
import { startPostgres, type Postgres } from '../../src/dev/postgres.js';
import { freePort } from '../../src/dev/temporal-dev-server.js';
import { caps, deliveryLogContract, deliveryRecord, fullDeliveryRecord } from '../helpers/delivery-log-contract.js';

let postgres: Postgres;
let databases = 0;
/** The in-memory log's caps, which a PostgreSQL log ignores. */
const memoryCaps = { maxEntries: 100_000, maxSamples: 10_000 };
const newDatabase = () => postgres.createDatabase(`delivery_log_${++databases}`);

beforeAll(async () => {
  postgres = await startPostgres();
}, 60_000);

afterAll(async () => {
  await postgres?.stop();
});

deliveryLogContract('postgres', () => openPostgresDeliveryLog(newDatabase()));

const newestFirst = (records: readonly DeliveryRecord[]) =>
  records
    .map((r) => r.id)
    .sort()
    .reverse();
const listedIds = async (log: DeliveryLog) => (await log.list({ limit: 100 })).map((r) => r.id);
/** What a call rejected with (it must reject). */
const failure = (call: Promise<unknown>) =>
  call.then(
    () => {
      throw new Error('the call succeeded');
    },
    (error: unknown) => error as Error,
  );

describe('postgres delivery log', () => {
  it('is what openDeliveryLog gives for a url, ready once it has connected', async () => {
    const log = await openDeliveryLog({ ...memoryCaps, url: new Secret(newDatabase()) });
    try {
      expect(log.kind).toBe('postgres');
      const record = deliveryRecord(1);
      await vi.waitFor(() => log.append([record]), { timeout: 10_000, interval: 20 });
      expect(await log.list({ limit: 10 })).toEqual([record]);
    } finally {
      await log.close();
    }
  });

  it('skips only the records PostgreSQL refuses for their data, and keeps the rest of the batch', async () => {
    const skipped: Array<[number, string]> = [];
    const log = await openPostgresDeliveryLog(newDatabase(), {
      onSkipped: (count, reason) => skipped.push([count, reason]),
    });
    try {
      const good = [1, 3, 5].map((s) => deliveryRecord(s));
      // A date JavaScript takes (it rolls 30 February over to 2 March) and PostgreSQL does not,
      // and a status beyond PostgreSQL's integer.
      const badDate = deliveryRecord(2, { receivedAt: '2030-02-30T00:00:00.000Z' });
      const badStatus = deliveryRecord(4, { status: 2 ** 31 });
      expect(Number.isNaN(Date.parse(badDate.receivedAt))).toBe(false);
      await log.append([good[0]!, badDate, good[1]!, badStatus, good[2]!]);
      expect(await log.list({ limit: 10 })).toEqual([good[2], good[1], good[0]]);
      expect(skipped).toEqual([[2, expect.stringMatching(/^22\w{3} /)]]);
      // A clean batch skips nothing; the refused records can be told apart from the stored ones.
      await log.append([deliveryRecord(6)]);
      expect(skipped).toHaveLength(1);
      expect(await log.get(badDate.id)).toBeUndefined();
    } finally {
      await log.close();
    }
  });

  it('prunes a backlog larger than one batch, by age and by count', async () => {
    const log = await openPostgresDeliveryLog(newDatabase(), { pruneBatchSize: 3 });
    try {
      const records = Array.from({ length: 20 }, (_, i) => deliveryRecord(i));
      await log.append(records);
      // Nine by age (three full batches, then an empty one), then seven beyond the newest four.
      expect(await log.prune(new Date(records[9]!.receivedAt), caps(1000))).toBe(9);
      expect(await listedIds(log)).toEqual(newestFirst(records.slice(9)));
      expect(await log.prune(new Date(0), caps(4))).toBe(7);
      expect(await listedIds(log)).toEqual(newestFirst(records.slice(16)));
      expect(await log.prune(new Date(0), caps(4))).toBe(0);
    } finally {
      await log.close();
    }
  });

  it('opens while PostgreSQL is down, answers DeliveryLogUnavailable, and works once it is up, without reopening', async () => {
    // A server of its own, in a directory that survives its stops.
    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-delivery-log-outage-'));
    let server = await startPostgres({ dir });
    let running = true;
    const { port, url } = server;
    const stop = async () => {
      await server.stop();
      running = false;
    };
    const start = async () => {
      server = await startPostgres({ dir, port });
      running = true;
    };
    await stop();
    const reported: Error[] = [];
    const log = await openDeliveryLog({
      ...memoryCaps,
      url: new Secret(url),
      onError: (error) => reported.push(error),
    });
    try {
      expect(log.kind).toBe('postgres');
      const first = deliveryRecord(1);
      const calls = [
        log.append([first]),
        log.list({ limit: 1 }),
        log.get(first.id),
        log.seen('github', 'main', ['gh-1']),
        log.prune(new Date(0), caps(10)),
      ];
      for (const error of await Promise.all(calls.map(failure))) {
        expect(error).toBeInstanceOf(DeliveryLogUnavailable);
        expect(error.message).not.toContain(url);
      }
      await vi.waitFor(() => expect(reported.length).toBeGreaterThan(0));
      expect(reported[0]!.message).toBe('ECONNREFUSED');

      await start();
      // The log connects on its own (its retries back off from 1 s): the same log, not a new one.
      await vi.waitFor(() => log.append([first]), { timeout: 20_000, interval: 50 });
      expect(await log.list({ limit: 10 })).toEqual([first]);

      // Down again after it was ready: calls fail as unavailable, then work when it is back.
      await stop();
      const second = deliveryRecord(2);
      for (const error of await Promise.all([log.append([second]), log.seen('github', 'main', ['gh-1'])].map(failure)))
        expect(error).toBeInstanceOf(DeliveryLogUnavailable);
      await start();
      await vi.waitFor(() => log.append([second]), { timeout: 20_000, interval: 50 });
      expect(await log.list({ limit: 10 })).toEqual([second, first]);
      expect(await log.seen('github', 'main', ['gh-1', 'gh-2'])).toEqual(new Set(['gh-1', 'gh-2']));

      // Closing while the database is down neither hangs nor waits for a retry.
      await stop();
      const closing = performance.now();
      await log.close();
      expect(performance.now() - closing).toBeLessThan(1_000);
      await expect(log.list({ limit: 1 })).rejects.toThrow(/closed/);
    } finally {
      await log.close();
      if (running) await server.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it('closes at once when it never reached the database, and stops retrying', async () => {
    const url = `postgresql://nobody:secret-password@127.0.0.1:${await freePort()}/none`;
    const reported: Error[] = [];
    const log = createPostgresDeliveryLog(url, {
      retry: { firstMs: 10, maxMs: 20 },
      onError: (error) => reported.push(error),
    });
    // Several attempts, each failing and each reported without the URL or its password.
    await vi.waitFor(() => expect(reported.length).toBeGreaterThanOrEqual(3));
    for (const error of reported) expect(error.message).not.toMatch(/secret-password|postgresql:/);
    const error = await failure(log.get('d0'));
    expect(error).toBeInstanceOf(DeliveryLogUnavailable);
    expect(error.message).toBe('the delivery log is not ready (ECONNREFUSED)');
    const closing = performance.now();
    await log.close();
    expect(performance.now() - closing).toBeLessThan(1_000);
    const attempts = reported.length;
    // No attempt after close: wait out several retry delays, then count again.
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(reported).toHaveLength(attempts);
  });

  it('lets replicas open it at the same moment, then share their records', async () => {
    const url = newDatabase();
    // Six bridges starting together all apply the schema; none fails on the DDL.
    const replicas = await Promise.all(Array.from({ length: 6 }, () => openPostgresDeliveryLog(url, { max: 2 })));
    try {
      const [a, b] = replicas as [DeliveryLog, DeliveryLog];
      // As the provider sent it (a full record is a replay and a sample, which seen does not count).
      const fromA: DeliveryRecord = { ...fullDeliveryRecord(1), origin: 'provider', replayOf: null, sample: null };
      const fromB = deliveryRecord(2, { deliveryId: 'gh-2' });
      await Promise.all([a.append([fromA]), b.append([fromB])]);
      for (const log of replicas) {
        expect(await log.list({ limit: 10 })).toEqual([fromB, fromA]);
        expect(await log.seen('github', 'main', ['gh-full', 'gh-2', 'gh-3'])).toEqual(new Set(['gh-full', 'gh-2']));
      }
      // The same record written by two replicas at once is kept once.
      const both = deliveryRecord(3);
      await Promise.all([a.append([both]), b.append([both])]);
      expect(await b.list({ deliveryId: 'gh-3', limit: 10 })).toEqual([both]);
      // Both replicas pruning at once delete the surplus once between them.
      const pruned = await Promise.all(replicas.map((log) => log.prune(new Date(0), caps(1))));
      expect(pruned.reduce((sum, n) => sum + n, 0)).toBe(2);
      expect(await a.list({ limit: 10 })).toEqual([both]);
    } finally {
      await Promise.all(replicas.map((log) => log.close()));
    }
  });

  it('treats values that look like SQL as plain values', async () => {
    const url = newDatabase();
    const log = await openPostgresDeliveryLog(url);
    try {
      const tricky = "x' OR '1'='1";
      const dropper = "'); DROP TABLE webhook_deliveries; --";
      const plain = deliveryRecord(1);
      const odd = deliveryRecord(2, { repository: tricky, deliveryId: dropper, detail: '$1 \\ $$ %s' });
      await log.append([plain, odd]);
      expect(await log.list({ repository: tricky, limit: 10 })).toEqual([odd]);
      expect(await log.list({ repository: "acme/api' OR '1'='1", limit: 10 })).toEqual([]);
      expect(await log.list({ provider: "github' --", limit: 10 })).toEqual([]);
      expect(await log.list({ deliveryId: dropper, limit: 10 })).toEqual([odd]);
      expect(await log.list({ before: "z' OR '1'='1", limit: 10 })).toEqual([odd, plain]);
      expect(await log.seen('github', "main' OR '1'='1", ['gh-1'])).toEqual(new Set());
      expect(await log.seen('github', 'main', [dropper, "gh-1' OR '1'='1"])).toEqual(new Set([dropper]));
      expect(postgres.query(url.split('/').pop()!, 'SELECT count(*) FROM webhook_deliveries')).toBe('2');
    } finally {
      await log.close();
    }
  });

  it('survives the server dropping its idle connections, and carries on with new ones', async () => {
    const database = `delivery_log_${++databases}`;
    const url = postgres.createDatabase(database);
    let dropped!: (error: Error) => void;
    const droppedError = new Promise<Error>((resolve) => (dropped = resolve));
    const log = await openPostgresDeliveryLog(url, { onConnectionLost: (error) => dropped(error) });
    try {
      await log.append([deliveryRecord(1)]);
      expect(
        postgres.query(
          'postgres',
          `SELECT count(pg_terminate_backend(pid)) > 0 FROM pg_stat_activity WHERE datname = '${database}'`,
        ),
      ).toBe('t');
      // Unhandled, this error would end the test process.
      expect((await droppedError).message).toMatch(/terminat/i);
      await log.append([deliveryRecord(2)]);
      expect(await log.list({ limit: 10 })).toHaveLength(2);
    } finally {
      await log.close();
    }
  });

  it('keeps the schema it documents', async () => {
    const url = newDatabase();
    const log = await openPostgresDeliveryLog(url);
    await log.close();
    const database = url.split('/').pop()!;
    const columns = postgres.query(
      database,
      `SELECT string_agg(column_name || ':' || data_type, ',' ORDER BY ordinal_position)
       FROM information_schema.columns WHERE table_name = 'webhook_deliveries'`,
    );
    expect(columns.split(',')).toEqual([
      'id:text',
      'received_at:timestamp with time zone',
      'received_at_iso:text',
      'provider:text',
      'hook:text',
      'delivery_id:text',
      'event:text',
      'repository:text',
      'outcome:text',
      'reason:text',
      'detail:text',
      'status:integer',
      'job_id:text',
      'run_id:text',
      'route:text',
      'body_sha256:text',
      'body_bytes:bigint',
      'origin:text',
      'replay_of:text',
      'requested_by:text',
      'sample:jsonb',
      'git_event:jsonb',
    ]);
    const indexes = postgres.query(
      database,
      `SELECT string_agg(indexname, ',' ORDER BY indexname) FROM pg_indexes WHERE tablename = 'webhook_deliveries'`,
    );
    expect(indexes.split(',')).toEqual([
      'webhook_deliveries_body',
      'webhook_deliveries_outcome',
      'webhook_deliveries_pkey',
      'webhook_deliveries_received_at',
      'webhook_deliveries_repository',
      'webhook_deliveries_samples',
      'webhook_deliveries_seen',
    ]);
  });
});
