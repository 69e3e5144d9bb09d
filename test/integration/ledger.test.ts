// The usage ledger on both stores it supports: embedded PGlite and a real PostgreSQL. A write
// retried after a crash (same logical key) and concurrent duplicate writes are counted once;
// totals are per owner and period; only admins read other owners. On PostgreSQL, a server
// restart under idle pooled connections is reported and the next write lands on a new connection.
import { ApplicationFailure } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createBillingActivities } from '../../activities/billing.js';
import type { Identity } from '../../src/core/identity.js';
import type { GatehouseConfig } from '../../src/config/load-config.js';
import { Secret } from '../../src/core/secret.js';
import { openLedger, type Ledger } from '../../src/worker/open-ledger.js';
import { startPostgres, type Postgres } from '../../src/dev/postgres.js';

let postgres: Postgres;
const ledgers: Record<'pglite' | 'postgres', Ledger | undefined> = { pglite: undefined, postgres: undefined };

beforeAll(async () => {
  postgres = await startPostgres();
  const base = { ledger: { dataDir: 'memory' }, source: '/tmp/x.yaml' } as unknown as GatehouseConfig;
  ledgers.pglite = await openLedger(base);
  ledgers.postgres = await openLedger({ ...base, ledgerUrl: new Secret(postgres.url) } as GatehouseConfig);
}, 60_000);

afterAll(async () => {
  await ledgers.pglite?.close();
  await ledgers.postgres?.close();
  await postgres?.stop();
});

const alice: Identity = {
  method: 'jwt',
  principal: 'jwt:i#alice',
  issuer: 'i',
  subject: 'alice',
  groups: [],
  roles: [],
  scopes: [],
};
const admin: Identity = { ...alice, principal: 'jwt:i#root', subject: 'root', groups: ['admins'] };
const rules = { adminGroups: ['admins'] };
const period = { from: '2000-01-01T00:00:00Z', to: '2100-01-01T00:00:00Z' };

describe.each(['pglite', 'postgres'] as const)('ledger on %s', (kind) => {
  it('opens the right store', () => {
    expect(ledgers[kind]?.kind).toBe(kind);
  });

  it('counts a retried write once, and concurrent duplicates once', async () => {
    const billing = createBillingActivities(ledgers[kind]!.db, rules);
    const entry = {
      entryKey: `wf-1:run-1:jobs:${kind}`,
      owner: 'jwt:i#alice',
      route: 'ci',
      repository: 'acme/api',
      jobId: 'ci.x',
      metric: 'jobs' as const,
      quantity: 1,
    };
    // The first attempt committed, then the worker died before reporting: the retry repeats the key.
    expect(await billing.recordUsage(entry)).toEqual({ recorded: true });
    expect(await billing.recordUsage(entry)).toEqual({ recorded: false });
    const burst = await Promise.all(
      Array.from({ length: 10 }, () => billing.recordUsage({ ...entry, entryKey: `wf-2:run-1:jobs:${kind}` })),
    );
    expect(burst.filter((r) => r.recorded)).toHaveLength(1);
    await billing.recordUsage({
      ...entry,
      entryKey: `wf-1:run-1:run_seconds:${kind}`,
      metric: 'run_seconds',
      quantity: 42.5,
    });
    await billing.recordUsage({ ...entry, entryKey: `wf-3:run-1:jobs:${kind}`, owner: 'jwt:i#bob' });

    expect((await billing.queryUsage(period, alice)).totals).toEqual([
      { owner: 'jwt:i#alice', metric: 'jobs', quantity: 2 },
      { owner: 'jwt:i#alice', metric: 'run_seconds', quantity: 42.5 },
    ]);
    expect((await billing.queryUsage({ ...period, owner: '*' }, admin)).totals.map((t) => t.owner)).toEqual([
      'jwt:i#alice',
      'jwt:i#alice',
      'jwt:i#bob',
    ]);
    expect(
      (await billing.queryUsage({ from: '2100-01-01T00:00:00Z', to: '2200-01-01T00:00:00Z' }, alice)).totals,
    ).toEqual([]);

    // Split by route and calendar month (UTC), as the console's Usage page asks.
    await billing.recordUsage({ ...entry, entryKey: `wf-4:run-1:jobs:${kind}`, route: 'policy-check' });
    const month = new Date().toISOString().slice(0, 7);
    expect((await billing.queryUsage({ ...period, by: ['route', 'month'] }, alice)).totals).toEqual([
      { owner: 'jwt:i#alice', metric: 'jobs', quantity: 2, route: 'ci', month },
      { owner: 'jwt:i#alice', metric: 'run_seconds', quantity: 42.5, route: 'ci', month },
      { owner: 'jwt:i#alice', metric: 'jobs', quantity: 1, route: 'policy-check', month },
    ]);
    expect((await billing.queryUsage({ ...period, by: ['month'] }, alice)).totals).toEqual([
      { owner: 'jwt:i#alice', metric: 'jobs', quantity: 3, month },
      { owner: 'jwt:i#alice', metric: 'run_seconds', quantity: 42.5, month },
    ]);
  });

  it("refuses another owner's usage to a non-admin, and a bad period", async () => {
    const billing = createBillingActivities(ledgers[kind]!.db, rules);
    await expect(billing.queryUsage({ ...period, owner: 'jwt:i#bob' }, alice)).rejects.toMatchObject({
      type: 'BillingAccessDenied',
    });
    // Another issuer's `alice` is someone else, and so is a token whose sub spells a principal.
    expect((await billing.queryUsage(period, { ...alice, principal: 'jwt:other#alice' })).totals).toEqual([]);
    expect((await billing.queryUsage(period, { ...alice, principal: 'jwt:i#jwt:i#alice' })).totals).toEqual([]);
    const bad = await billing.queryUsage({ from: 'yesterday', to: 'now' }, alice).catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(ApplicationFailure);
    expect((bad as ApplicationFailure).type).toBe('BillingQueryInvalid');
  });
});

describe('ledger on postgres, restarted under it', () => {
  it('reports the connections the restart broke, keeps going, and lands the next write', async () => {
    const lost: Error[] = [];
    const base = { ledger: { dataDir: 'memory' }, source: '/tmp/x.yaml' } as unknown as GatehouseConfig;
    const password = 'ledger-password-never-logged';
    const url = postgres.createDatabase('ledger_restart').replace('gatehouse@', `gatehouse:${password}@`);
    const ledger = await openLedger({ ...base, ledgerUrl: new Secret(url) } as GatehouseConfig, {
      onConnectionLost: (error) => lost.push(error),
    });
    try {
      const billing = createBillingActivities(ledger.db, rules);
      const entry = (key: string) => ({
        entryKey: `restart:${key}`,
        owner: 'jwt:i#alice',
        route: 'ci',
        jobId: 'ci.restart',
        metric: 'jobs' as const,
        quantity: 1,
      });
      // Several writes at once leave several idle connections in the pool.
      await Promise.all(['a', 'b', 'c'].map((key) => billing.recordUsage(entry(key))));
      const idle = () =>
        Number(
          postgres.query(
            'postgres',
            "SELECT count(*) FROM pg_stat_activity WHERE datname = 'ledger_restart' AND state = 'idle'",
          ),
        );
      expect(idle()).toBeGreaterThan(0);
      await postgres.restart();
      await vi.waitFor(() => expect(lost.length).toBeGreaterThan(0), { timeout: 10_000, interval: 20 });
      expect(lost[0]!.message).toMatch(/^57P01 terminating connection/);
      expect(lost.map((error) => error.message).join('\n')).not.toContain(password);
      expect(await billing.recordUsage(entry('after'))).toEqual({ recorded: true });
    } finally {
      await ledger.close();
    }
  });
});
