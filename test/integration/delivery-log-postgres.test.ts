// The PostgreSQL delivery log against a real server: the shared store contract (each test on a
// database of its own), and what only a shared store must do: replicas opening it at the same
// moment, seeing each other's records, values that look like SQL staying values, and a connection
// the server drops not taking the process down. It needs PostgreSQL, not Temporal.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeliveryLog } from '../../src/core/deliveries.js';
import { Secret } from '../../src/core/secret.js';
import { openDeliveryLog } from '../../src/deliveries/open-delivery-log.js';
import { openPostgresDeliveryLog } from '../../src/deliveries/postgres-log.js';
import { startPostgres, type Postgres } from '../../src/dev/postgres.js';
import { deliveryLogContract, deliveryRecord, fullDeliveryRecord } from '../helpers/delivery-log-contract.js';

let postgres: Postgres;
let databases = 0;
const newDatabase = () => postgres.createDatabase(`delivery_log_${++databases}`);

beforeAll(async () => {
  postgres = await startPostgres();
}, 60_000);

afterAll(async () => {
  await postgres?.stop();
});

deliveryLogContract('postgres', () => openPostgresDeliveryLog(newDatabase()));

describe('postgres delivery log', () => {
  it('is what openDeliveryLog gives for a url', async () => {
    const log = await openDeliveryLog({ url: new Secret(newDatabase()) });
    expect(log.kind).toBe('postgres');
    await log.close();
  });

  it('lets replicas open it at the same moment, then share their records', async () => {
    const url = newDatabase();
    // Six bridges starting together all apply the schema; none fails on the DDL.
    const replicas = await Promise.all(Array.from({ length: 6 }, () => openPostgresDeliveryLog(url, { max: 2 })));
    try {
      const [a, b] = replicas as [DeliveryLog, DeliveryLog];
      const fromA = fullDeliveryRecord(1);
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
      const pruned = await Promise.all(replicas.map((log) => log.prune(new Date(0), 1)));
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
    const log = await openPostgresDeliveryLog(url, { onError: (error) => dropped(error) });
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
      'webhook_deliveries_outcome',
      'webhook_deliveries_pkey',
      'webhook_deliveries_received_at',
      'webhook_deliveries_repository',
      'webhook_deliveries_seen',
    ]);
  });
});
