// A real PostgreSQL restarted under a worker process whose ledger is on it, and under a bridge
// whose delivery log is on it. Each holds idle pooled connections when the server goes down; the
// server ends them, and node-postgres emits `error` for each. Unhandled, that ends the process.
// Here both processes survive, report the broken connection (a warning without the connection
// string's password, and gatehouse_postgres_connection_errors_total), and the next write lands
// on a new connection.
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { stringify } from 'yaml';
import { buildApp } from '../../src/bridge/app.js';
import { startPostgres, type Postgres } from '../../src/dev/postgres.js';
import { freePort } from '../../src/dev/temporal-dev-server.js';
import { gitServerOverlay, startGitServer } from '../helpers/git-server.js';
import { loadTestConfig, testConfigFile, testSecrets, uniqueName, useGatehouse } from '../helpers/gatehouse.js';
import { deliver, githubDelivery, githubExample } from '../helpers/webhooks.js';

const password = `pw-${uniqueName('secret')}`;
let postgres: Postgres;
const cleanups: Array<() => Promise<void> | void> = [];
/** The issuer and the git server; each test builds its own config and processes. */
const g = useGatehouse({ worker: false, bridge: false, fakes: { git: () => startGitServer({ README: 'x' }) } });

beforeAll(async () => {
  postgres = await startPostgres();
}, 60_000);

afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  await postgres?.stop();
});

/** The database's URL with a password in it (loopback trust ignores it): it must never be logged. */
function urlWithPassword(database: string): string {
  return postgres.createDatabase(database).replace('gatehouse@', `gatehouse:${password}@`);
}

/** Waits until something holds an idle connection to `database` (each test's process has one of its own). */
async function idleConnections(database: string): Promise<void> {
  await vi.waitFor(
    () =>
      expect(
        Number(
          postgres.query(
            'postgres',
            `SELECT count(*) FROM pg_stat_activity WHERE datname = '${database}' AND state = 'idle'`,
          ),
        ),
      ).toBeGreaterThan(0),
    { timeout: 10_000, interval: 50 },
  );
}

describe('a worker whose ledger is on PostgreSQL', () => {
  it('survives a restart of the server under its idle connections, and records the next usage', async () => {
    const scratchDir = mkdtempSync(join(tmpdir(), 'gatehouse-scratch-'));
    cleanups.push(() => rmSync(scratchDir, { recursive: true, force: true }));
    const config = loadTestConfig({
      issuer: g.issuer,
      taskQueue: uniqueName('gatehouse-pg-restart'),
      overlay: {
        ci: {
          ...gitServerOverlay(g.fakes.git).ci,
          statusApis: null,
          scratchDir,
          sandbox: { runner: 'none' },
          pipelines: [
            { repositories: ['ledger/*'], runner: 'steps', steps: [{ name: 'build', run: 'true', timeout: '1m' }] },
          ],
        },
      },
    });
    const ledgerDatabase = 'ledger_restart';
    const { source: _source, webhookSecrets: _secrets, ...plain } = config;
    const file = join(testConfigFile, '..', `.generated-${uniqueName('pg-restart')}.yaml`);
    writeFileSync(file, stringify({ ...plain, ledger: { dataDir: 'memory', url: { env: 'TEST_LEDGER_URL' } } }));
    cleanups.push(() => rmSync(file, { force: true }));

    const metricsPort = await freePort();
    const worker = spawn(process.execPath, ['--import', 'tsx', 'src/worker.ts'], {
      env: {
        ...process.env,
        ...testSecrets,
        GATEHOUSE_CONFIG: file,
        TEST_LEDGER_URL: urlWithPassword(ledgerDatabase),
        GATEHOUSE_WORKER_METRICS_LISTEN: `127.0.0.1:${metricsPort}`,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const output = collectOutput(worker);
    cleanups.push(() => stop(worker));
    // It bundles its workflows before it polls: many seconds of CPU, minutes on a crowded machine.
    await vi.waitFor(() => expect(worker.exitCode !== null || output().includes('worker polling')).toBe(true), {
      timeout: 180_000,
      interval: 100,
    });
    expect(worker.exitCode, output()).toBeNull();

    const app = await buildApp(config, { logger: { level: 'info', stream: testLogStream() } });
    cleanups.push(() => app.close());
    // This test's own bridge (its log is the test's): the caller's requests go to it.
    const me = await g.caller({ groups: ['maintainers'] });
    const runJob = async () => {
      // A 503 (Temporal slow to answer on a busy machine) is retried with the same key, as a client would.
      const key = uniqueName('job');
      let jobId = '';
      await vi.waitFor(
        async () => {
          const started = await app.inject({
            method: 'POST',
            url: '/v1/jobs/ci',
            headers: { ...me.headers, 'idempotency-key': key },
            payload: { provider: 'github', repository: { fullName: 'ledger/x' }, after: g.fakes.git.sha },
          });
          if (started.statusCode === 503) throw new Error('Temporal is busy; the start is retried');
          expect(started.statusCode).toBe(202);
          jobId = started.json().jobId as string;
        },
        { timeout: 30_000, interval: 500 },
      );
      await vi.waitFor(
        async () => {
          const job = await app.inject({ url: `/v1/jobs/${jobId}?wait=5`, headers: me.headers });
          expect(job.json().status).toBe('COMPLETED');
        },
        { timeout: 60_000, interval: 10 },
      );
      return jobId;
    };
    const ledgerRows = (jobId: string) =>
      postgres.query(ledgerDatabase, `SELECT metric FROM usage_ledger WHERE job_id = '${jobId}' ORDER BY metric`);

    const first = await runJob();
    expect(ledgerRows(first)).toBe('jobs\nrun_seconds');
    await idleConnections(ledgerDatabase);
    await postgres.restart();
    // Without a listener the worker dies of the first broken connection; wait for either.
    await vi.waitFor(
      () => expect(worker.exitCode !== null || output().includes('a PostgreSQL connection broke')).toBe(true),
      { timeout: 15_000, interval: 50 },
    );
    expect(worker.exitCode, output()).toBeNull();

    const second = await runJob();
    expect(ledgerRows(second)).toBe('jobs\nrun_seconds');
    expect(worker.exitCode, output()).toBeNull();
    const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    expect(metrics).toMatch(/^gatehouse_postgres_connection_errors_total\{[^}]*store="ledger"[^}]*\} [1-9]/m);
    expect(output()).toMatch(/a PostgreSQL connection broke.*ledger.*57P01/s);
    expect(output()).not.toContain(password);
  }, 360_000);
});

describe('a bridge whose delivery log is on PostgreSQL', () => {
  it('survives a restart of the server under its idle connections, and records the next delivery', async () => {
    const logDatabase = 'delivery_log_restart';
    const config = loadTestConfig({
      issuer: g.issuer,
      taskQueue: uniqueName('gatehouse-pg-restart'),
      overlay: { webhooks: { deliveryLog: { url: { env: 'TEST_DELIVERY_LOG_URL' } } } },
      env: { TEST_DELIVERY_LOG_URL: urlWithPassword(logDatabase) },
    });
    const lines: string[] = [];
    const app = await buildApp(config, { logger: { level: 'info', stream: testLogStream(lines) } });
    cleanups.push(() => app.close());
    const admin = (await g.caller({ groups: ['gatehouse-admins'] })).headers;
    // Signed pushes to a branch no rule takes: recorded (ignored) without starting a job.
    const sendIgnoredPush = async () => {
      const delivery = githubDelivery(
        { ...githubExample('push', (e) => e.ref === 'refs/heads/master'), ref: `refs/heads/${uniqueName('topic')}` },
        { secret: testSecrets.TEST_GITHUB_SECRET, event: 'push' },
      );
      expect((await deliver(app, delivery)).statusCode).toBe(200);
      return delivery.headers['x-github-delivery']!;
    };
    const recorded = async (deliveryId: string) => {
      await vi.waitFor(
        async () => {
          await app.deliveries.recorder.flush();
          const listed = await app.inject({ url: `/v1/webhooks/deliveries?deliveryId=${deliveryId}`, headers: admin });
          expect(listed.json().deliveries).toMatchObject([{ deliveryId, outcome: 'ignored' }]);
        },
        // The log connects in the background, and the recorder retries a write the log could not take.
        { timeout: 30_000, interval: 100 },
      );
    };

    await recorded(await sendIgnoredPush());
    await idleConnections(logDatabase);
    await postgres.restart();
    await vi.waitFor(() => expect(lines.join('\n')).toContain('a PostgreSQL connection broke'), {
      timeout: 15_000,
      interval: 50,
    });

    await recorded(await sendIgnoredPush());
    const metrics = await app.metrics.registry.metrics();
    expect(metrics).toMatch(/^gatehouse_postgres_connection_errors_total\{store="delivery_log"\} [1-9]/m);
    expect(lines.join('\n')).toMatch(/"store":"delivery_log".*57P01/);
    expect(lines.join('\n')).not.toContain(password);
  }, 120_000);
});

/** The bridge's log lines into this file's log, and into `lines` when given. */
function testLogStream(lines?: string[]): Writable {
  return new Writable({
    write(chunk: Buffer, _encoding, done) {
      const text = chunk.toString('utf8');
      lines?.push(text);
      appendFileSync(process.env.GATEHOUSE_TEST_LOG ?? '/dev/null', text);
      done();
    },
  });
}

/** Everything the process writes, into this file's log and kept for the assertions. */
function collectOutput(child: ChildProcess): () => string {
  let text = '';
  const keep = (chunk: Buffer) => {
    text += chunk.toString('utf8');
    appendFileSync(process.env.GATEHOUSE_TEST_LOG ?? '/dev/null', chunk);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  return () => text;
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}
