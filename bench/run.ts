// The benchmark suite: what the bridge and the edge cost over Temporal itself. It measures and
// reports; it never passes or fails anything. One run starts its own Temporal dev server, a dev
// issuer, one bridge *process* (so its resident memory is its own) and HAProxy in front of it,
// then runs each scenario against its baseline, interleaved in rounds so drift hits all alike.
//   npm run bench            (BENCH_SCALE=0.2 for a quick look; results in bench/results/)
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { createHmac, randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { Agent, request as httpRequest } from 'node:http';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import autocannon from 'autocannon';
import { createKeyStore } from '../src/bridge/auth/key-store.js';
import { createTokenVerifier } from '../src/bridge/auth/verify-token.js';
import { startDevIssuer } from '../src/dev/dev-issuer.js';
import { edgeConfigFiles } from '../src/edge/edge-files.js';
import { loopbackEdgeEnv, startEdge } from '../src/dev/edge-process.js';
import { syncJwks } from '../src/edge/sync-jwks.js';
import { freePort, startDevServer, temporalCli } from '../src/dev/temporal-dev-server.js';
import { ownerKey, routeKey, sourceKey } from '../src/core/search-attributes.js';
import { percentile, summarize, type Figures } from './stats.js';

const scale = Number(process.env.BENCH_SCALE ?? 1);
const n = (count: number) => Math.max(20, Math.round(count * scale));
const rounds = 3;
const concurrency = 16;
const query = JSON.stringify({
  action: { type: 'Gatehouse::Action', id: 'read' },
  resource: { type: 'Gatehouse::Repository', id: 'acme/website' },
});
const webhookSecret = 'bench-github-secret';

const results: Record<string, unknown> = {};
const table: Array<[string, string]> = [];
const cleanups: Array<() => Promise<void> | void> = [];

function rss(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
}
const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;
const fmt = (f: Figures) => `${f.throughput.toFixed(0)}/s, p50 ${f.p50.toFixed(2)} ms, p99 ${f.p99.toFixed(2)} ms`;

/** A fixed number of calls at a fixed concurrency from this process (the SDK baselines). */
async function loop(count: number, parallel: number, call: () => Promise<unknown>): Promise<Figures> {
  const latencies: number[] = [];
  let next = 0;
  const began = performance.now();
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (next < count) {
        next += 1;
        const t = performance.now();
        await call();
        latencies.push(performance.now() - t);
      }
    }),
  );
  return summarize(latencies, performance.now() - began);
}

/** The same through autocannon (HTTP load generator, keep-alive connections). */
async function cannon(options: autocannon.Options): Promise<Figures & { non2xx: number; errors: number }> {
  const began = performance.now();
  // sampleInt 10 ms: autocannon only notices the end of a run on its sampling tick (1 s by default).
  const result = await autocannon({ connections: concurrency, sampleInt: 10, ...options });
  // autocannon's own duration is in whole seconds; time the run here instead.
  const elapsedSeconds = (performance.now() - began) / 1000;
  return {
    throughput: result.requests.total / elapsedSeconds,
    p50: result.latency.p50,
    p99: result.latency.p99,
    count: result.requests.total,
    non2xx: result.non2xx,
    errors: result.errors,
  };
}

async function main(): Promise<void> {
  const temporal = await startDevServer();
  cleanups.push(() => temporal.stop());
  const issuer = await startDevIssuer();
  cleanups.push(() => issuer.close());
  const bridgePort = await freePort();
  // The bridge as it runs in production: compiled JavaScript (npm run build), not through tsx.
  // BENCH_BRIDGE_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" profiles the bridge for the note.
  const nodeArgs = (process.env.BENCH_BRIDGE_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const bridge = spawn(process.execPath, [...nodeArgs, 'dist/src/server.js'], {
    env: {
      ...process.env,
      GATEHOUSE_CONFIG: 'config/gatehouse.yaml',
      GATEHOUSE_LISTEN: `127.0.0.1:${bridgePort}`,
      GATEHOUSE_METRICS_LISTEN: `127.0.0.1:${await freePort()}`,
      TEMPORAL_ADDRESS: temporal.address,
      GATEHOUSE_JWT_ISSUER: issuer.issuer,
      GATEHOUSE_JWT_AUDIENCE: issuer.audience,
      GATEHOUSE_GITHUB_WEBHOOK_SECRET: webhookSecret,
      GATEHOUSE_GITLAB_WEBHOOK_TOKEN: 'x',
      GATEHOUSE_GITEA_WEBHOOK_SECRET: 'x',
      GATEHOUSE_BITBUCKET_WEBHOOK_SECRET: 'x',
      NODE_ENV: 'production',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  cleanups.push(() => stopChild(bridge));
  const bridgeUrl = `http://127.0.0.1:${bridgePort}`;
  await waitReady(`${bridgeUrl}/readyz`);

  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-bench-'));
  // Both server slots point at the one bridge, so (b) and (c) measure the same bridge; rates and
  // in-flight caps are lifted so the edge measures cost, not its limits.
  const edgeEnv = await loopbackEdgeEnv({
    dir,
    issuer,
    bridges: [`127.0.0.1:${bridgePort}`, `127.0.0.1:${bridgePort}`],
    overrides: { EDGE_WEBHOOK_RATE: '100000000', EDGE_WEBHOOK_CONNS: '100000', EDGE_SUBJECT_RATE: '100000000' },
  });

  await syncJwks({
    jwksUrl: issuer.jwksUrl,
    keysDir: edgeEnv.EDGE_KEYS_DIR,
    configFiles: edgeConfigFiles(edgeEnv),
    retainSeconds: 3600,
    env: { ...process.env, ...edgeEnv },
  });
  const edge = await startEdge(edgeEnv);
  cleanups.push(() => edge.stop());
  const edgeUrl = `https://${edgeEnv.EDGE_HTTPS_BIND}`;

  const connection = await Connection.connect({ address: temporal.address });
  cleanups.push(() => connection.close());
  const client = new Client({ connection });
  const rsToken = await issuer.mint({ sub: 'bench-rs' }, { alg: 'RS256', expiresIn: 7200 });
  const esToken = await issuer.mint({ sub: 'bench-es' }, { alg: 'ES256', expiresIn: 7200 });
  const auth = { authorization: `Bearer ${rsToken}`, 'content-type': 'application/json' };
  const memory: Record<string, number> = { atRest: rss(bridge.pid!) };

  // --- 1. Job starts: (a) SDK, (b) bridge, (c) HAProxy + bridge, interleaved -------------------
  const sdkStart = () =>
    client.workflow.start('policyCheck', {
      workflowId: `bench-${randomUUID()}`,
      taskQueue: 'gatehouse-bench-idle',
      args: [{ input: JSON.parse(query) }],
      memo: { identity: { subject: 'bench-rs' } },
      typedSearchAttributes: [
        { key: ownerKey, value: 'bench-rs' },
        { key: routeKey, value: 'policy-check' },
        { key: sourceKey, value: 'api' },
      ],
    });
  const startBody = { method: 'POST' as const, headers: auth, body: query };
  await loop(n(200), concurrency, sdkStart); // warm-up
  await cannon({ url: `${bridgeUrl}/v1/jobs/policy-check`, amount: n(200), ...startBody });
  await cannon({ url: `${edgeUrl}/v1/jobs/policy-check`, amount: n(200), ...startBody });
  const starts: Record<'sdk' | 'bridge' | 'edge', Figures[]> = { sdk: [], bridge: [], edge: [] };
  for (let round = 0; round < rounds; round += 1) {
    starts.sdk.push(await loop(n(1500), concurrency, sdkStart));
    starts.bridge.push(await cannon({ url: `${bridgeUrl}/v1/jobs/policy-check`, amount: n(1500), ...startBody }));
    starts.edge.push(await cannon({ url: `${edgeUrl}/v1/jobs/policy-check`, amount: n(1500), ...startBody }));
  }
  memory.afterStarts = rss(bridge.pid!);
  const s = { sdk: median(starts.sdk), bridge: median(starts.bridge), edge: median(starts.edge) };
  results.starts = { ...s, rounds: starts };
  table.push(['starts (a) SDK direct', fmt(s.sdk)]);
  table.push([
    'starts (b) bridge',
    `${fmt(s.bridge)}  | b/a ${(s.bridge.throughput / s.sdk.throughput).toFixed(2)}x, +${(s.bridge.p50 - s.sdk.p50).toFixed(2)} ms p50`,
  ]);
  table.push([
    'starts (c) HAProxy TLS + bridge',
    `${fmt(s.edge)}  | c/a ${(s.edge.throughput / s.sdk.throughput).toFixed(2)}x, +${(s.edge.p50 - s.sdk.p50).toFixed(2)} ms p50`,
  ]);

  // --- 2. Status reads: GET /v1/jobs/{id} vs describe(); long-poll under many waiting clients ---
  const started = (await (
    await fetch(`${bridgeUrl}/v1/jobs/policy-check`, { method: 'POST', headers: auth, body: query })
  ).json()) as { jobId: string };
  const handle = client.workflow.getHandle(started.jobId);
  const reads: Record<'describe' | 'bridge', Figures[]> = { describe: [], bridge: [] };
  for (let round = 0; round < rounds; round += 1) {
    reads.describe.push(await loop(n(1500), concurrency, () => handle.describe()));
    reads.bridge.push(await cannon({ url: `${bridgeUrl}/v1/jobs/${started.jobId}`, amount: n(1500), headers: auth }));
  }
  const r = { describe: median(reads.describe), bridge: median(reads.bridge) };
  results.reads = { ...r, rounds: reads };
  table.push(['status: describe() direct', fmt(r.describe)]);
  table.push([
    'status: GET /v1/jobs/{id}',
    `${fmt(r.bridge)}  | ${(r.bridge.throughput / r.describe.throughput).toFixed(2)}x of describe()`,
  ]);

  const waiters = n(200);
  const beforeWait = rss(bridge.pid!);
  const agent = new Agent({ keepAlive: true, maxSockets: Infinity });
  const waiting = Array.from(
    { length: waiters },
    () =>
      new Promise<number>((resolve) => {
        const request = httpRequest(
          `${bridgeUrl}/v1/jobs/${started.jobId}?wait=8`,
          { headers: auth, agent },
          (response) => {
            response.resume();
            response.on('end', () => resolve(response.statusCode ?? 0));
          },
        );
        request.on('error', () => resolve(-1));
        request.end();
      }),
  );
  await new Promise((resolve) => setTimeout(resolve, 4_000));
  const duringWait = rss(bridge.pid!);
  const openSockets = Number(
    execFileSync('sh', ['-c', `ls /proc/${bridge.pid}/fd | wc -l`])
      .toString()
      .trim(),
  );
  const waitStatuses = await Promise.all(waiting);
  agent.destroy();
  results.longPoll = {
    waiters,
    rssBefore: beforeWait,
    rssDuring: duringWait,
    perWaiter: (duringWait - beforeWait) / waiters,
    openFds: openSockets,
    ok: waitStatuses.filter((c) => c === 200).length,
  };
  table.push([
    `long-poll: ${waiters} clients waiting`,
    `${waitStatuses.filter((c) => c === 200).length}/${waiters} answered 200, bridge fds ${openSockets}, RSS +${mb(duringWait - beforeWait)} (${((duringWait - beforeWait) / waiters / 1024).toFixed(1)} KB per waiter)`,
  ]);
  memory.afterReads = rss(bridge.pid!);

  // --- 3. Webhook intake through HAProxy: 1 KB, 1 MB, 20 MB; duplicates ------------------------
  const push = JSON.parse(readFileSync('node_modules/@octokit/webhooks-examples/api.github.com/index.json', 'utf8'))
    .find((e: { name: string }) => e.name === 'push')
    .examples.find((x: { ref: string }) => x.ref === 'refs/heads/master');
  const webhook = (bytes: number) => {
    const base = JSON.stringify({ ...push, ref: 'refs/heads/main', padding: '' });
    const body = JSON.stringify({
      ...push,
      ref: 'refs/heads/main',
      padding: 'x'.repeat(Math.max(0, bytes - base.length)),
    });
    return { body, signature: `sha256=${createHmac('sha256', webhookSecret).update(body).digest('hex')}` };
  };
  const webhooks: Record<string, Figures & { non2xx: number; errors: number; bytes: number }> = {};
  for (const [label, bytes, count, parallel] of [
    ['1 KB', 1_024, n(1500), concurrency],
    ['1 MB', 1_048_576, n(200), 8],
    ['20 MB', 20 * 1_048_576, Math.max(8, n(24)), 2],
  ] as const) {
    const { body, signature } = webhook(bytes);
    const headers = {
      'content-type': 'application/json',
      'x-github-event': 'push',
      'x-github-hook-id': '1',
      'x-hub-signature-256': signature,
    };
    const figures = await cannon({
      url: `${edgeUrl}/v1/webhooks/github`,
      method: 'POST',
      body,
      headers,
      amount: count,
      connections: parallel,
      timeout: 60,
      requests: [
        {
          setupRequest: (request) => ({
            ...request,
            headers: { ...request.headers, 'x-github-delivery': randomUUID() },
          }),
        },
      ],
    });
    webhooks[label] = { ...figures, bytes: Buffer.byteLength(body) };
    table.push([`webhook ${label} (signed, via HAProxy)`, `${fmt(figures)}, non-2xx ${figures.non2xx}`]);
    memory[`afterWebhook${label.replace(' ', '')}`] = rss(bridge.pid!);
  }
  {
    const { body, signature } = webhook(1_024);
    const headers = {
      'content-type': 'application/json',
      'x-github-event': 'push',
      'x-github-hook-id': '1',
      'x-hub-signature-256': signature,
      'x-github-delivery': randomUUID(),
    };
    const duplicates = await cannon({
      url: `${edgeUrl}/v1/webhooks/github`,
      method: 'POST',
      body,
      headers,
      amount: n(1500),
    });
    webhooks.duplicates = { ...duplicates, bytes: Buffer.byteLength(body) };
    table.push(['webhook 1 KB duplicate deliveries', `${fmt(duplicates)}, non-2xx ${duplicates.non2xx}`]);
  }
  results.webhooks = webhooks;

  // --- 4. Token verification with a warm JWKS ---------------------------------------------------
  const keys = createKeyStore({
    issuer: issuer.issuer,
    jwksUrl: issuer.jwksUrl,
    refreshMs: 300_000,
    cooldownMs: 30_000,
    fetchTimeoutMs: 5_000,
  });
  const verify = createTokenVerifier(keys, {
    issuer: issuer.issuer,
    audience: issuer.audience,
    algorithms: ['RS256', 'ES256'],
    types: ['JWT', 'at+jwt'],
    clockToleranceSeconds: 30,
    claims: { groups: 'groups', roles: 'roles' },
  });
  await verify(rsToken);
  await verify(esToken);
  const tokenFigures: Record<string, number> = {};
  for (const [label, token] of [
    ['RS256', rsToken],
    ['ES256', esToken],
  ] as const) {
    const count = n(5000);
    const began = performance.now();
    for (let i = 0; i < count; i += 1) await verify(token);
    tokenFigures[label] = ((performance.now() - began) * 1000) / count;
  }
  const authOnly = (token: string) =>
    cannon({
      url: `${bridgeUrl}/v1/jobs/no-such-route`,
      method: 'POST',
      body: '{}',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      amount: n(3000),
    });
  const health = await cannon({ url: `${bridgeUrl}/healthz`, amount: n(3000) });
  const rsHttp = await authOnly(rsToken);
  const esHttp = await authOnly(esToken);
  results.tokens = { inProcessMicroseconds: tokenFigures, http: { health, rs256: rsHttp, es256: esHttp } };
  table.push([
    'token verify in-process',
    `RS256 ${tokenFigures.RS256!.toFixed(0)} µs/op, ES256 ${tokenFigures.ES256!.toFixed(0)} µs/op`,
  ]);
  table.push([
    'token verify over HTTP (vs /healthz)',
    `healthz ${health.throughput.toFixed(0)}/s; RS256 ${rsHttp.throughput.toFixed(0)}/s (${(rsHttp.throughput / health.throughput).toFixed(2)}x); ES256 ${esHttp.throughput.toFixed(0)}/s (${(esHttp.throughput / health.throughput).toFixed(2)}x)`,
  ]);

  // --- 5. Memory ---------------------------------------------------------------------------------
  memory.atEnd = rss(bridge.pid!);
  results.memory = memory;
  table.push([
    'bridge RSS',
    Object.entries(memory)
      .map(([k, v]) => `${k} ${mb(v)}`)
      .join(', '),
  ]);

  const machine = {
    cores: cpus().length,
    cpu: cpus()[0]?.model,
    memory: mb(totalmem()),
    node: process.version,
    haproxy: execFileSync('haproxy', ['-v']).toString().split('\n')[0],
    temporal: execFileSync(temporalCli(), ['--version']).toString().trim(),
    scale,
    rounds,
    concurrency,
  };
  const width = Math.max(...table.map(([k]) => k.length));
  console.log(
    `\nGatehouse benchmark (${machine.cores} cores, Node ${machine.node}, ${machine.haproxy}, ${machine.temporal})`,
  );
  for (const [key, value] of table) console.log(`${key.padEnd(width)}  ${value}`);
  mkdirSync('bench/results', { recursive: true });
  const file = `bench/results/${new Date().toISOString().replaceAll(':', '-')}.json`;
  writeFileSync(file, `${JSON.stringify({ machine, results }, null, 2)}\n`);
  console.log(`\nwritten ${file}`);
}

function median(figures: Figures[]): Figures {
  const by = (key: keyof Figures) =>
    percentile(
      figures.map((f) => f[key]),
      50,
    );
  return { throughput: by('throughput'), p50: by('p50'), p99: by('p99'), count: by('count') };
}

async function waitReady(url: string): Promise<void> {
  for (let i = 0; i < 120; i += 1) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${url} not ready`);
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const gone = new Promise((done) => child.once('exit', done));
  child.kill('SIGTERM');
  await gone;
}

try {
  await main();
} finally {
  for (const cleanup of cleanups.reverse()) await cleanup();
}
