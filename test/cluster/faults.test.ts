// The fault test of the scale-out test bed: under a steady load of job starts and webhook
// deliveries through the edge, kill -9 one Temporal server process and restart it, restart
// PostgreSQL, and roll both bridges and both workers one at a time. Then every request that got a
// 2xx must have exactly one workflow, and it must complete; every other answer must be a 503 with
// Retry-After (the load generator retries those with the same Idempotency-Key or delivery, as a
// client should); the ledger must count each CI job once. The figures are printed at the end.
import { execFileSync } from 'node:child_process';
import { Agent, request } from 'node:https';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time.js';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startClusterStack, type ClusterStack } from '../../src/dev/cluster-stack.js';
import { startGitServer, type GitServer } from '../helpers/git-server.js';
import { githubDelivery, githubExample } from '../helpers/webhooks.js';
import { chmodSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { randomBytes } from 'node:crypto';

const loadIntervalMs = Number(process.env.CLUSTER_LOAD_INTERVAL_MS ?? 500);

let stack: ClusterStack;
let git: GitServer;
let agent: Agent;
let token: string;

beforeAll(async () => {
  git = await startGitServer({ 'README.md': '# app\n' });
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-cluster-'));
  chmodSync(dir, 0o755); // PostgreSQL runs as its own user when the tests run as root
  process.stdout.write(`cluster test bed in ${dir} (logs: ${dir}/logs, ${dir}/temporal)\n`);
  stack = await startClusterStack({
    dir,
    configure(config) {
      const ci = config.ci as Record<string, unknown>;
      ci.webUrls = { github: `${git.url}/github` };
      ci.cloneProtocols = ['http'];
      ci.cancelSuperseded = false;
      ci.pipelines = [
        {
          repositories: ['acme/*'],
          runner: 'steps',
          steps: [{ name: 'test', run: 'test -f README.md', timeout: '1m' }],
        },
      ];
    },
  });
  agent = new Agent({ ca: stack.edgeCa, keepAlive: true, maxSockets: 64 });
  token = await stack.issuer.mint({ sub: 'cluster-load', groups: ['maintainers'] }, { expiresIn: 3600 });
});

afterAll(async () => {
  agent?.destroy();
  await stack?.stop();
  await git?.close();
});

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  json: Record<string, unknown> | undefined;
}

function call(method: string, path: string, headers: Record<string, string>, body?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(`${stack.edgeUrl}${path}`, { method, headers, agent, timeout: 30_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        let json: Record<string, unknown> | undefined;
        try {
          json = JSON.parse(text) as Record<string, unknown>;
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, json });
      });
    });
    req.on('timeout', () => req.destroy(new Error('client timeout')));
    req.on('error', reject);
    req.end(body);
  });
}

interface Attempt {
  phase: string;
  status: number;
  ms: number;
  code?: string;
  retryAfter?: string;
  contentType?: string;
  error?: string;
}

interface Logical {
  kind: 'api' | 'webhook';
  key: string;
  attempts: Attempt[];
  jobId?: string;
}

let phase = 'steady';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Sends one logical request until it gets a 2xx, retrying a 503 after its Retry-After (at most 2 s). */
async function drive(logical: Logical, send: () => Promise<Answer>): Promise<void> {
  const deadline = Date.now() + 240_000;
  while (Date.now() < deadline) {
    const at = phase;
    const began = Date.now();
    let answer: Answer;
    try {
      answer = await send();
    } catch (error) {
      logical.attempts.push({ phase: at, status: 0, ms: Date.now() - began, error: String(error) });
      await sleep(1_000);
      continue;
    }
    const retryAfter = answer.headers['retry-after'];
    logical.attempts.push({
      phase: at,
      status: answer.status,
      ms: Date.now() - began,
      ...(typeof answer.json?.code === 'string' ? { code: answer.json.code } : {}),
      ...(typeof retryAfter === 'string' ? { retryAfter } : {}),
      ...(typeof answer.headers['content-type'] === 'string' ? { contentType: answer.headers['content-type'] } : {}),
    });
    if (answer.status >= 200 && answer.status < 300) {
      logical.jobId = String(answer.json?.jobId);
      return;
    }
    if (answer.status !== 503) return;
    await sleep(Math.min(Number(retryAfter ?? 1), 2) * 1_000);
  }
}

const pushExample = githubExample('push', (e) => (e.commits as unknown[] | undefined)?.length !== 0);

function startApiJob(n: number): Logical {
  const logical: Logical = { kind: 'api', key: `load-${n}-${randomBytes(4).toString('hex')}`, attempts: [] };
  const body = JSON.stringify({
    provider: 'github',
    repository: { fullName: 'acme/app' },
    ref: 'refs/heads/main',
    after: git.sha,
  });
  void drive(logical, () =>
    call(
      'POST',
      '/v1/jobs/ci',
      {
        authorization: `Bearer ${token}`,
        'content-type': 'application/json',
        'idempotency-key': logical.key,
      },
      body,
    ),
  ).finally(() => pending.delete(logical));
  pending.add(logical);
  return logical;
}

function deliverWebhook(n: number): Logical {
  const repository = pushExample.repository as Record<string, unknown>;
  const payload = {
    ...pushExample,
    after: randomBytes(20).toString('hex'),
    ref: `refs/heads/load-${n}`,
    // The hook's configured server is the local git server.
    repository: { ...repository, clone_url: `${git.url}/github/${String(repository.full_name)}.git` },
  };
  const delivery = githubDelivery(payload, {
    secret: stack.webhookSecrets.GATEHOUSE_GITHUB_WEBHOOK_SECRET!,
    event: 'push',
  });
  const logical: Logical = { kind: 'webhook', key: delivery.headers['x-github-delivery']!, attempts: [] };
  void drive(logical, () => call('POST', delivery.url, delivery.headers, delivery.body)).finally(() =>
    pending.delete(logical),
  );
  pending.add(logical);
  return logical;
}

const pending = new Set<Logical>();

/** HAProxy's view of one server of the edge's bridges backend, from its admin socket. */
async function edgeSees(server: string): Promise<string> {
  const csv = await new Promise<string>((resolve, reject) => {
    const socket = createConnection(stack.edge.adminSocket);
    let out = '';
    socket.on('data', (d: Buffer) => (out += d.toString()));
    socket.on('end', () => resolve(out));
    socket.on('error', reject);
    socket.end('show stat\n');
  });
  const line = csv.split('\n').find((l) => l.startsWith(`bridges,${server},`));
  return line?.split(',')[17] ?? 'unknown';
}

/** Resident memory and CPU time of each process of the stack, from /proc. */
function processSizes(): string {
  const ticks = 100; // USER_HZ on Linux
  const parts = [
    ...stack.temporal.servers.map((s) => [s.name, s.pid] as const),
    ...stack.bridges.map((b) => [b.name, b.pid] as const),
    ...Object.values(stack.workers).map((w) => [w.name, w.pid] as const),
  ];
  return parts
    .map(([name, pid]) => {
      if (pid === undefined) return `${name} -`;
      const rss = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      const cpu = (Number(fields[11]) + Number(fields[12])) / ticks;
      return `${name} ${Math.round(Number(rss) / 1024)}/${cpu.toFixed(1)}`;
    })
    .join(', ');
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await sleep(250);
  }
  throw new Error(`${what} did not happen within ${timeoutMs} ms`);
}

it('loses no accepted job and duplicates none while Temporal, PostgreSQL, bridges and workers fail and roll', async () => {
  const sent: Logical[] = [];
  let n = 0;
  const load = setInterval(() => {
    n += 1;
    sent.push(n % 2 === 0 ? startApiJob(n) : deliverWebhook(n));
  }, loadIntervalMs);
  const timeline: string[] = [];
  const started = Date.now();
  const mark = (name: string) => {
    phase = name;
    timeline.push(`${((Date.now() - started) / 1000).toFixed(1)}s ${name}`);
  };

  mark('steady');
  await sleep(10_000);

  const [temporal1] = stack.temporal.servers;
  mark(`kill -9 ${temporal1!.name}`);
  await temporal1!.kill();
  expect(temporal1!.running).toBe(false);
  await sleep(15_000);
  mark(`restart ${temporal1!.name}`);
  await temporal1!.start();
  await sleep(10_000);

  mark('restart PostgreSQL');
  await stack.postgres.restart();
  await sleep(10_000);

  for (const [index, bridge] of stack.bridges.entries()) {
    const server = `bridge${index + 1}`;
    mark(`roll ${bridge.name}`);
    await bridge.stop();
    await bridge.start();
    await until(`the edge sees ${server} up`, async () => (await edgeSees(server)) === 'UP');
  }
  for (const worker of Object.values(stack.workers)) {
    mark(`roll ${worker.name}`);
    await worker.stop();
    await worker.start();
  }
  mark('steady');
  await sleep(10_000);
  clearInterval(load);
  mark('load stopped');
  const sizing = processSizes();
  await until('every request answered', async () => pending.size === 0, 300_000);

  // What the callers saw.
  const attempts = sent.flatMap((l) => l.attempts);
  const ok = sent.filter((l) => l.jobId !== undefined);
  const answered503 = attempts.filter((a) => a.status === 503);
  const other = attempts.filter((a) => !(a.status >= 200 && a.status < 300) && a.status !== 503);

  // What Temporal holds: every accepted job closes, and each workflow id has exactly one run.
  const connection = await Connection.connect({ address: stack.temporal.address });
  const client = new Client({ connection, namespace: stack.temporal.namespace });
  const jobIds = new Set(ok.map((l) => l.jobId!));
  const statuses = new Map<string, string>();
  const queue = [...jobIds];
  const closeBy = Date.now() + 120_000;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      for (let id = queue.shift(); id !== undefined; id = queue.shift()) {
        const handle = client.workflow.getHandle(id);
        // A job that has not closed within two minutes of the load's end counts as lost.
        await Promise.race([handle.result().catch(() => undefined), sleep(Math.max(0, closeBy - Date.now()))]);
        statuses.set(id, (await handle.describe()).status.name);
      }
    }),
  );
  const runs = new Map<string, number>();
  await until(
    'visibility lists every closed job',
    async () => {
      runs.clear();
      for await (const execution of client.workflow.list({
        query: "GatehouseRoute = 'ci' OR GatehouseRoute = 'git-event'",
      })) {
        runs.set(execution.workflowId, (runs.get(execution.workflowId) ?? 0) + 1);
      }
      return [...jobIds].every((id) => runs.has(id));
    },
    120_000,
  );
  await connection.close();
  const completed = [...statuses.values()].filter((s) => s === 'COMPLETED').length;
  const lost = [...jobIds].filter((id) => statuses.get(id) !== 'COMPLETED');
  const duplicateRuns = [...runs.values()].reduce((sum, count) => sum + count - 1, 0);
  const unexpected = [...runs.keys()].filter((id) => !jobIds.has(id));

  // What the ledger holds: one `jobs` entry per CI job.
  const ciJobs = new Set(ok.filter((l) => l.kind === 'api').map((l) => l.jobId!));
  const ledgerRows = stack.postgres
    .query(
      'gatehouse_ledger',
      "SELECT job_id || ' ' || count(*) || ' ' || sum(quantity) FROM usage_ledger WHERE metric = 'jobs' GROUP BY job_id",
    )
    .split('\n')
    .filter(Boolean)
    .map((line) => line.split(' '));
  const ledgerTwice = ledgerRows.filter(([, count, sum]) => count !== '1' || sum !== '1');
  const ledgerStrangers = ledgerRows.filter(([id]) => !ciJobs.has(id!));
  const ledgerMissing = [...ciJobs].filter((id) => !ledgerRows.some(([row]) => row === id));

  // What the shared delivery log holds: each delivery accepted exactly once, with its job, although
  // PostgreSQL restarted and both bridges were rolled while records were being written.
  const deliveries = new Map(ok.filter((l) => l.kind === 'webhook').map((l) => [l.key, l.jobId!] as const));
  // A delivery answered 503 whose start had reached Temporal anyway (the answer was lost to the
  // fault) is taken by its retry as a duplicate of its own job: that record, naming the job, is
  // the one that shows it was taken.
  const retried = new Set(
    ok
      .filter((l) => l.kind === 'webhook' && l.attempts.some((a) => a.status !== 202 && a.status !== 200))
      .map((l) => l.key),
  );
  let duplicateRecords: string[][] = [];
  let acceptedRecords: string[][] = [];
  const recorded = (key: string) =>
    acceptedRecords.some(([id]) => id === key) ||
    (retried.has(key) && duplicateRecords.some(([id, job]) => id === key && job === deliveries.get(key)));
  await until(
    'the delivery log holds every accepted delivery',
    async () => {
      acceptedRecords = stack.postgres
        .query(
          'gatehouse_deliveries',
          "SELECT delivery_id || ' ' || job_id FROM webhook_deliveries WHERE outcome = 'accepted' AND origin = 'provider'",
        )
        .split('\n')
        .filter(Boolean)
        .map((line) => line.split(' '));
      duplicateRecords = stack.postgres
        .query(
          'gatehouse_deliveries',
          "SELECT delivery_id || ' ' || job_id FROM webhook_deliveries WHERE outcome = 'duplicate' AND origin = 'provider' AND sample IS NULL",
        )
        .split('\n')
        .filter(Boolean)
        .map((line) => line.split(' '));
      return [...deliveries.keys()].every((key) => recorded(key));
    },
    60_000,
  ).catch(() => {});
  const logMissing = [...deliveries.keys()].filter((key) => !recorded(key));
  const logTwice = [...deliveries.keys()].filter((key) => acceptedRecords.filter(([id]) => id === key).length > 1);
  const logWrongJob = acceptedRecords.filter(([id, job]) => deliveries.has(id!) && deliveries.get(id!) !== job);

  const byPhase = new Map<string, { ok: number; unavailable: number; ms: number[] }>();
  for (const attempt of attempts) {
    const entry = byPhase.get(attempt.phase) ?? { ok: 0, unavailable: 0, ms: [] };
    if (attempt.status === 503) entry.unavailable += 1;
    else if (attempt.status >= 200 && attempt.status < 300) entry.ok += 1;
    entry.ms.push(attempt.ms);
    byPhase.set(attempt.phase, entry);
  }
  const percentile = (values: number[], p: number) =>
    [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(values.length * p))] ?? 0;
  process.stdout.write(
    [
      '',
      'cluster fault test',
      `  timeline: ${timeline.join(' | ')}`,
      `  requests ${sent.length} (${sent.filter((l) => l.kind === 'api').length} job starts, ${sent.filter((l) => l.kind === 'webhook').length} webhook deliveries), attempts ${attempts.length}`,
      `  2xx ${ok.length}, 503 answers ${answered503.length} (retried with the same key), other answers ${other.length}`,
      `  workflows ${runs.size}, completed ${completed}, lost ${lost.length}, duplicate runs ${duplicateRuns}, workflows nobody was told of ${unexpected.length}`,
      `  ledger: ${ledgerRows.length} CI jobs counted, ${ledgerTwice.length} counted twice, ${ledgerMissing.length} missing, ${ledgerStrangers.length} unknown`,
      `  delivery log: ${deliveries.size} deliveries, ${deliveries.size - logMissing.length} recorded accepted, ${logTwice.length} twice, ${logMissing.length} missing, ${logWrongJob.length} with another job`,
      `  processes at the end of the load (RSS MB, CPU s since start): ${sizing}`,
      '  by phase: 2xx / 503 answers, answer time p50 / max (ms)',
      ...[...byPhase].map(
        ([name, e]) =>
          `    ${name.padEnd(28)} ${e.ok} / ${e.unavailable}   ${percentile(e.ms, 0.5)} / ${Math.max(...e.ms)}`,
      ),
      '',
    ].join('\n'),
  );

  expect(other, 'every answer is a 2xx or a 503').toEqual([]);
  for (const attempt of answered503) {
    expect(attempt.retryAfter, `503 in ${attempt.phase} has Retry-After`).toMatch(/^\d+$/);
    expect(attempt.contentType, `503 in ${attempt.phase} is problem+json`).toMatch(/application\/problem\+json/);
  }
  expect(ok.length, 'every request was accepted in the end').toBe(sent.length);
  expect(lost, 'every accepted job completed').toEqual([]);
  expect(duplicateRuns).toBe(0);
  expect(unexpected).toEqual([]);
  expect(ledgerTwice).toEqual([]);
  expect(ledgerMissing).toEqual([]);
  expect(ledgerStrangers).toEqual([]);
  // A missing delivery says what the caller saw and what the log holds for it.
  const missingDetail = logMissing.map((key) => ({
    key,
    jobId: deliveries.get(key),
    attempts: sent.find((l) => l.key === key)?.attempts,
    records: stack.postgres.query(
      'gatehouse_deliveries',
      `SELECT id || ' ' || outcome || ' ' || coalesce(reason, '-') || ' ' || coalesce(status::text, '-') || ' ' || coalesce(job_id, '-') || ' ' || (sample IS NOT NULL)::text FROM webhook_deliveries WHERE delivery_id = '${key.replace(/[^0-9a-f-]/g, '')}'`,
    ),
  }));
  // And what the bridges said about their delivery logs (lost records are warned about).
  const bridgeLogLines =
    missingDetail.length === 0
      ? []
      : ['bridge1.log', 'bridge2.log'].flatMap((file) =>
          readFileSync(join(stack.dir, 'logs', file), 'utf8')
            .split('\n')
            .filter((line) => /delivery.log|delivery_log/i.test(line))
            .map((line) => `${file}: ${line.slice(0, 400)}`)
            .slice(-20),
        );
  expect({ missing: missingDetail, bridgeLogLines }, 'every accepted delivery is in the delivery log').toEqual({
    missing: [],
    bridgeLogLines: [],
  });
  expect(logTwice).toEqual([]);
  expect(logWrongJob).toEqual([]);
});

it('registers the search attributes on a new namespace with the operator command, once', async () => {
  const namespace = `ops-${randomBytes(3).toString('hex')}`;
  const connection = await Connection.connect({ address: stack.temporal.address });
  await connection.workflowService.registerNamespace({
    namespace,
    workflowExecutionRetentionPeriod: msToTs('1 day'),
  });
  const run = () =>
    execFileSync(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'register-search-attributes'], {
      env: {
        ...process.env,
        GATEHOUSE_CONFIG: stack.configFile,
        GATEHOUSE_LEDGER_URL: stack.ledgerUrl,
        GATEHOUSE_DELIVERY_LOG_URL: stack.deliveryLogUrl,
        TEMPORAL_ADDRESS: stack.temporal.address,
        TEMPORAL_NAMESPACE: namespace,
        GATEHOUSE_JWT_ISSUER: stack.issuer.issuer,
        GATEHOUSE_JWT_AUDIENCE: stack.issuer.audience,
      },
      encoding: 'utf8',
    });
  // A namespace registered a moment ago reaches every frontend's cache within seconds.
  let first = '';
  await until('the new namespace is known', async () => {
    first = run();
    return true;
  });
  expect(first).toMatch(
    /added GatehouseOwner, GatehouseRoute, GatehouseSource, GatehouseDelivery, GatehouseRef, GatehouseRerunOf, GatehouseRepository/,
  );
  expect(run()).toMatch(/all Gatehouse search attributes present/);
  const listed = await connection.operatorService.listSearchAttributes({ namespace });
  expect(Object.keys(listed.customAttributes ?? {})).toEqual(
    expect.arrayContaining([
      'GatehouseOwner',
      'GatehouseRoute',
      'GatehouseSource',
      'GatehouseDelivery',
      'GatehouseRef',
      'GatehouseRerunOf',
      'GatehouseRepository',
    ]),
  );
  await connection.close();
});
