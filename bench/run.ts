// The benchmark suite: what the bridge and the edge cost over Temporal itself, in CPU time and
// memory as well as speed. It measures and reports against the targets in bench/README.md; it never
// fails anything. One run starts its own Temporal dev server, a dev issuer, one bridge *process*
// (compiled JS, so its CPU time and resident memory are its own) and HAProxy in front of it, then
// runs each scenario against its baseline, interleaved in rounds so drift hits all alike.
// Every call has a timeout and every scenario a budget: a scenario that cannot finish says what it
// saw and the run goes on. One line per scenario as it goes, then the targets table, and the whole
// record in bench/results/<time>.json (rewritten after each scenario).
//   npm run bench   knobs: BENCH_SCALE=0.1 (counts ×0.1, a quick look), BENCH_ROUNDS=1 (one round
//   instead of 3), BENCH_IDLE_POLLS=10000 (idle long-polls whatever the scale), BENCH_STREAMS=1000
//   (job event streams, whatever the scale),
//   BENCH_BRIDGE_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" (profile the bridge),
//   BENCH_ONLY=workers,peer,people (only these scenario modules of bench/scenarios/, none of the rest).
// Tracing's cost: a second bridge process with tracing on, exporting to an OTLP receiver in this
// process, runs the start scenario in the same rounds; its CPU per start against the first one's.
// The scenario modules (bench/scenarios/: the workers against a minimal SDK worker, the peer: Temporal's
// HTTP API bare and behind HAProxy) run after the rest, or alone with BENCH_ONLY.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { createHmac, randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { bridgeNodeFlags } from '../src/config/bridge-process.js';
import { startDevIssuer } from '../src/dev/dev-issuer.js';
import { edgeConfigFiles } from '../src/edge/edge-files.js';
import { loopbackEdgeEnv, startEdge, type EdgeProcess } from '../src/dev/edge-process.js';
import { syncJwks } from '../src/edge/sync-jwks.js';
import { freePort, startDevServer, temporalCli } from '../src/dev/temporal-dev-server.js';
import { startTraceReceiver } from '../src/dev/trace-receiver.js';
import { ownerKey, routeKey, sourceKey } from '../src/core/search-attributes.js';
import { measureDeliveryLog, type DeliveryLogCost } from './delivery-log.js';
import { formatHeapSummary, summarizeHeapSnapshot, type HeapSummary } from './heap-summary.js';
import { call, cannon, emptyRun, loop, sleep, until, type Run } from './load.js';
import {
  childPids,
  clockTicks,
  cpuMs,
  cpuMsOf,
  fileLimit,
  openFds,
  peakRssBytes,
  raiseOwnFileLimit,
  rssBytes,
} from './proc.js';
import { measurePeer, peerTargets, type PeerContext } from './scenarios/peer.js';
import { measurePeople, peopleTargets, type PeopleContext } from './scenarios/people.js';
import { measureWorkers, workerTargets, type WorkersResult } from './scenarios/workers.js';
import { percentile } from './stats.js';
import type { TargetRow } from './targets.js';

const scale = Number(process.env.BENCH_SCALE ?? 1);
if (!(scale > 0)) throw new Error(`BENCH_SCALE must be a positive number, not ${process.env.BENCH_SCALE}`);
const rounds = Math.max(1, Math.round(Number(process.env.BENCH_ROUNDS ?? 3)));
/** BENCH_ONLY: run only these scenario modules (bench/scenarios/), none of the bridge's own. */
const only = (process.env.BENCH_ONLY ?? '').split(',').filter(Boolean);
const modules = ['workers', 'peer', 'people'] as const;
const unknownModules = only.filter((name) => !(modules as readonly string[]).includes(name));
if (unknownModules.length > 0)
  throw new Error(`BENCH_ONLY: unknown ${unknownModules.join(', ')} (known: ${modules.join(', ')})`);
const runs = (module: (typeof modules)[number]) => only.length === 0 || only.includes(module);
/** A count scaled by BENCH_SCALE, never below `min`. */
const n = (count: number, min = 20) => Math.max(min, Math.round(count * scale));
const concurrency = 16;
const callTimeoutMs = 10_000;
const idlePollTarget = 10_000;
/** BENCH_IDLE_POLLS: how many idle long-polls, whatever the scale (10,000 scaled by default). */
const idlePolls = Number(process.env.BENCH_IDLE_POLLS ?? 0) || n(idlePollTarget);
const streamTarget = 1_000;
/** BENCH_STREAMS: how many job event streams to hold open (1,000 whatever the scale: they are cheap to open). */
const streamCount = Number(process.env.BENCH_STREAMS ?? 0) || streamTarget;
/** The memory budget for `streamTarget` streams (64 KB a stream; bench/README.md, Targets). */
const streamBudgetBytes = 64 * 1_048_576;
const query = JSON.stringify({
  action: { type: 'Gatehouse::Action', id: 'read' },
  resource: { type: 'Gatehouse::Repository', id: 'acme/website' },
});
const webhookSecret = 'bench-github-secret';

const mb = (bytes: number) => (Number.isFinite(bytes) ? `${(bytes / 1024 / 1024).toFixed(1)} MB` : 'n/a');
const signedMb = (bytes: number) => (Number.isFinite(bytes) ? `${bytes < 0 ? '-' : '+'}${mb(Math.abs(bytes))}` : 'n/a');
const ms = (value: number, digits = 2) => (Number.isFinite(value) ? `${value.toFixed(digits)} ms` : 'n/a');
/** One line to stdout, written at once (stdout is synchronous for files, pipes and terminals). */
const say = (line: string) => process.stdout.write(`${line}\n`);

type Who = 'bridge' | 'haproxy' | 'client';
/** One measured run: what the load saw, plus CPU time of each process and the bridge's RSS after. */
interface Measured extends Run {
  scenario: string;
  round?: number;
  /** Total CPU milliseconds during the run: the bridge, HAProxy's workers, this process. */
  cpuMs: Record<Who, number>;
  /** The same per answered call. */
  cpuMsPerOp: Record<Who, number>;
  rssAfter: number;
  error?: string;
}

const started = new Date();
const resultFile = `bench/results/${started.toISOString().replaceAll(':', '-')}.json`;
const record = {
  complete: false,
  machine: {} as Record<string, unknown>,
  runs: [] as Measured[],
  scenarios: {} as Record<string, unknown>,
  memory: {
    points: {} as Record<string, number>,
    /** V8's heap at each point, from the bridge's metrics. */
    heap: {} as Record<string, { used: number; total: number; external: number }>,
    sampledMax: 0,
    sampledMaxAt: '',
    peak: 0,
  },
  heap: undefined as HeapSummary | undefined,
  targets: [] as TargetRow[],
  notes: [] as string[],
};
const save = () => {
  mkdirSync('bench/results', { recursive: true });
  writeFileSync(resultFile, `${JSON.stringify(record, null, 2)}\n`);
};
const cleanups: Array<() => Promise<void> | void> = [];

/** The processes whose CPU time and memory the bench reads. */
const procs = { bridge: 0, tracedBridge: 0, haproxyMaster: 0 };
let phase = 'start-up';

function note(text: string): void {
  record.notes.push(text);
  say(`  note: ${text}`);
}

/**
 * Runs `load`, reading each process's CPU time around it; prints one line and keeps the figures.
 * `bridgePid`: the bridge process measured (the traced one for its scenario).
 */
async function measure(
  scenario: string,
  show: Who[],
  load: () => Promise<Run>,
  round?: number,
  bridgePid = procs.bridge,
): Promise<Measured> {
  phase = scenario;
  const haproxy = procs.haproxyMaster === 0 ? [] : childPids(procs.haproxyMaster);
  const before = { bridge: cpuMs(bridgePid), haproxy: cpuMsOf(haproxy), client: process.cpuUsage() };
  let run: Run;
  let error: string | undefined;
  try {
    run = await load();
  } catch (thrown) {
    run = emptyRun(0);
    error = String(thrown);
  }
  const cpu: Record<Who, number> = {
    bridge: cpuMs(bridgePid) - before.bridge,
    haproxy: cpuMsOf(haproxy) - before.haproxy,
    client: (() => {
      const used = process.cpuUsage(before.client);
      return (used.user + used.system) / 1000;
    })(),
  };
  const ops = run.answered > 0 ? run.answered : Number.NaN; // no answers: no cost per call
  const measured: Measured = {
    ...run,
    scenario,
    ...(round === undefined ? {} : { round }),
    cpuMs: cpu,
    cpuMsPerOp: { bridge: cpu.bridge / ops, haproxy: cpu.haproxy / ops, client: cpu.client / ops },
    rssAfter: rssBytes(bridgePid),
    ...(error === undefined ? {} : { error }),
  };
  record.runs.push(measured);
  save();
  say(describeRun(measured, show));
  return measured;
}

function describeRun(m: Measured, show: Who[]): string {
  const label = `${m.scenario}${m.round === undefined ? '' : ` r${m.round}/${rounds}`}`.padEnd(32);
  const counts = `${m.ok}/${m.planned} ok`.padEnd(13);
  const speed = `${m.throughput.toFixed(0).padStart(5)}/s  p50 ${ms(m.p50, 1).padStart(9)}  p99 ${ms(m.p99, 1).padStart(9)}`;
  const cpu = show.map((who) => `${who} ${ms(m.cpuMsPerOp[who])}/op`).join(', ');
  const trouble: string[] = [];
  if (m.failed > 0) trouble.push(`${m.failed} failed`);
  if (m.timedOut > 0) trouble.push(`${m.timedOut} timed out`);
  const odd = Object.entries(m.statuses).filter(([code]) => !/^2/.test(code) && code !== '404');
  if (odd.length > 0) trouble.push(`statuses ${odd.map(([code, count]) => `${code}×${count}`).join(' ')}`);
  if (!m.finished) trouble.push(`UNFINISHED: answered ${m.answered} of ${m.planned} within the budget`);
  if (m.error !== undefined) trouble.push(`error: ${m.error}`);
  return `${label} ${counts} ${speed}  cpu ${cpu}  rss ${mb(m.rssAfter)}${trouble.length > 0 ? `  [${trouble.join('; ')}]` : ''}`;
}

/** Rounds of one variant together: median speed, CPU time summed over all calls (ticks are 10 ms). */
interface Combined {
  throughput: number;
  p50: number;
  p99: number;
  ok: number;
  answered: number;
  failed: number;
  timedOut: number;
  cpuMsPerOp: Record<Who, number>;
}
function combine(runs: Measured[]): Combined {
  const median = (key: 'throughput' | 'p50' | 'p99') =>
    percentile(
      runs.map((r) => r[key]),
      50,
    );
  const sum = (key: 'ok' | 'answered' | 'failed' | 'timedOut') => runs.reduce((total, r) => total + r[key], 0);
  const ops = Math.max(1, sum('answered'));
  const perOp = (who: Who) => runs.reduce((total, r) => total + r.cpuMs[who], 0) / ops;
  return {
    throughput: median('throughput'),
    p50: median('p50'),
    p99: median('p99'),
    ok: sum('ok'),
    answered: sum('answered'),
    failed: sum('failed'),
    timedOut: sum('timedOut'),
    cpuMsPerOp: { bridge: perOp('bridge'), haproxy: perOp('haproxy'), client: perOp('client') },
  };
}

function memoryPoint(name: string): number {
  const rss = rssBytes(procs.bridge);
  record.memory.points[name] = rss;
  heapReads.push(heapPoint(name).catch(() => undefined));
  return rss;
}

/** The heap reads memoryPoint started; awaited before the heap figures are printed. */
const heapReads: Array<Promise<void>> = [];

/** The bridge's V8 heap (used and total) from its metrics, next to its RSS: what holds the memory. */
let metricsUrl = '';
async function heapPoint(name: string): Promise<void> {
  if (metricsUrl === '') return;
  const answer = await call(metricsUrl, { timeoutMs: callTimeoutMs });
  const read = (metric: string) => Number(new RegExp(`^gatehouse_${metric} (\\S+)$`, 'm').exec(answer.body)?.[1]);
  record.memory.heap[name] = {
    used: read('nodejs_heap_size_used_bytes'),
    total: read('nodejs_heap_size_total_bytes'),
    external: read('nodejs_external_memory_bytes'),
  };
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-bench-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const diagnostics = join(dir, 'diagnostics');
  mkdirSync(diagnostics);

  // 10,000 idle long-polls need as many sockets here and in the bridge.
  const ownFiles = raiseOwnFileLimit(65_536);
  const temporal = await startDevServer();
  cleanups.push(() => temporal.stop());
  const issuer = await startDevIssuer();
  cleanups.push(() => issuer.close());
  // The bridge as it runs in production: compiled JavaScript (npm run build), not through tsx, with
  // the image's Node flags (src/config/bridge-process.ts); with a heap snapshot on SIGUSR2 (written
  // to `diagnostics`) and as many open files as it may have. BENCH_BRIDGE_NODE_ARGS adds flags
  // (later ones win): "--cpu-prof --cpu-prof-dir=/tmp/prof" profiles it (bench/profile-summary.ts).
  const nodeArgs = [
    ...bridgeNodeFlags,
    '--heapsnapshot-signal=SIGUSR2',
    `--diagnostic-dir=${diagnostics}`,
    ...(process.env.BENCH_BRIDGE_NODE_ARGS ?? '').split(' ').filter(Boolean),
  ];
  const startBridge = async (env: Record<string, string>) => {
    const port = await freePort();
    const metricsAddress = `127.0.0.1:${await freePort()}`;
    const child = spawn(
      'bash',
      [
        '-c',
        'ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"; exec "$@"',
        'bash',
        process.execPath,
        ...nodeArgs,
        'dist/src/server.js',
      ],
      {
        env: {
          ...process.env,
          GATEHOUSE_CONFIG: 'config/gatehouse.yaml',
          GATEHOUSE_LISTEN: `127.0.0.1:${port}`,
          GATEHOUSE_METRICS_LISTEN: metricsAddress,
          TEMPORAL_ADDRESS: temporal.address,
          GATEHOUSE_JWT_ISSUER: issuer.issuer,
          GATEHOUSE_JWT_AUDIENCE: issuer.audience,
          GATEHOUSE_GITHUB_WEBHOOK_SECRET: webhookSecret,
          GATEHOUSE_GITLAB_WEBHOOK_TOKEN: 'x',
          GATEHOUSE_GITEA_WEBHOOK_SECRET: 'x',
          GATEHOUSE_BITBUCKET_WEBHOOK_SECRET: 'x',
          NODE_ENV: 'production',
          ...env,
        },
        stdio: ['ignore', 'ignore', 'inherit'],
      },
    );
    cleanups.push(() => stopChild(child));
    const url = `http://127.0.0.1:${port}`;
    if (!(await until(async () => (await call(`${url}/readyz`, { timeoutMs: 2_000 })).status === 200, 60_000, 250))) {
      throw new Error(`the bridge did not become ready at ${url}/readyz within 60 s`);
    }
    return { pid: child.pid!, port, url, metricsAddress, stop: () => stopChild(child) };
  };
  // The bridge measured everywhere traces nothing (no OTEL_* endpoint). The traced one exports
  // every span to a receiver here, as it would to a collector.
  const untraced = Object.fromEntries(
    Object.keys(process.env)
      .filter((name) => name.startsWith('OTEL_'))
      .map((name) => [name, '']),
  );
  const { pid: bridgePid, port: bridgePort, url: bridgeUrl, metricsAddress } = await startBridge(untraced);
  metricsUrl = `http://${metricsAddress}/metrics`;
  procs.bridge = bridgePid;
  let spansReceived = 0;
  const receiver = await startTraceReceiver({ maxSpans: 1_000, onSpans: (spans) => (spansReceived += spans.length) });
  cleanups.push(() => receiver.close());
  // Exported every 0.5 s rather than the SDK's 5 s, so a round's spans are (nearly all) exported,
  // and paid for, within the round that made them.
  const traced = await startBridge({
    ...untraced,
    OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
    OTEL_BSP_SCHEDULE_DELAY: '500',
  });
  procs.tracedBridge = traced.pid;
  const bridgeFiles = fileLimit(procs.bridge).soft;

  // Both server slots point at the one bridge, so the edge scenarios measure the same bridge; rates
  // and in-flight caps are lifted so the edge measures cost, not its limits.
  const edgeEnv = await loopbackEdgeEnv({
    dir,
    issuer,
    bridges: [`127.0.0.1:${bridgePort}`, `127.0.0.1:${bridgePort}`],
    overrides: { EDGE_WEBHOOK_RATE: '100000000', EDGE_WEBHOOK_CONNS: '100000', EDGE_SUBJECT_RATE: '100000000' },
  });
  let edge: EdgeProcess | undefined;
  try {
    await syncJwks({
      jwksUrl: issuer.jwksUrl,
      keysDir: edgeEnv.EDGE_KEYS_DIR,
      configFiles: edgeConfigFiles(edgeEnv),
      retainSeconds: 3600,
      env: { ...process.env, ...edgeEnv },
    });
    edge = await startEdge(edgeEnv);
    cleanups.push(() => edge?.stop());
    procs.haproxyMaster = edge.process.pid!;
  } catch (error) {
    note(`HAProxy did not start, its scenarios are skipped: ${String(error)}`);
  }
  const edgeUrl = `https://${edgeEnv.EDGE_HTTPS_BIND}`;

  const connection = await Connection.connect({ address: temporal.address, connectTimeout: callTimeoutMs });
  cleanups.push(() => connection.close());
  const client = new Client({ connection });
  const rsToken = await issuer.mint({ sub: 'bench-rs' }, { alg: 'RS256', expiresIn: 7200 });
  const auth = { authorization: `Bearer ${rsToken}`, 'content-type': 'application/json' };

  record.machine = {
    cores: cpus().length,
    cpu: cpus()[0]?.model,
    memory: mb(totalmem()),
    loadAverageAtStart: readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' '),
    node: process.version,
    haproxy: execFileSync('haproxy', ['-v']).toString().split('\n')[0],
    temporal: execFileSync(temporalCli(), ['--version']).toString().trim(),
    clockTicks,
    openFiles: { bench: ownFiles, bridge: bridgeFiles },
    scale,
    rounds,
    concurrency,
    started: started.toISOString(),
  };
  say(
    `Gatehouse benchmark: ${record.machine.cores} cores (load ${record.machine.loadAverageAtStart}), Node ${process.version}, ` +
      `${String(record.machine.haproxy).replace(/ - https.*/, '')}, ${String(record.machine.temporal)}; scale ${scale}, ${rounds} rounds`,
  );
  say(
    `CPU time from /proc/<pid>/stat (${1000 / clockTicks} ms ticks) for the bridge and HAProxy's workers, process.cpuUsage() here`,
  );

  // Memory: a sample of the bridge's RSS every 250 ms, to know the highest point and when it was.
  const sampler = setInterval(() => {
    const rss = rssBytes(procs.bridge);
    if (rss > record.memory.sampledMax) {
      record.memory.sampledMax = rss;
      record.memory.sampledMaxAt = phase;
    }
  }, 250);
  sampler.unref();
  cleanups.push(() => clearInterval(sampler));

  // --- the calls each scenario makes ----------------------------------------------------------
  const isTimeout = (error: unknown) =>
    /deadline|timed? ?out|aborted/i.test(`${String(error)} ${String((error as { cause?: unknown })?.cause)}`);
  const sdkStart = (deadline: number) =>
    client.withDeadline(deadline, () =>
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
      }),
    );
  const sdkLoop = (count: number, budgetMs: number, fn: (deadline: number) => Promise<unknown>) =>
    loop({ count, parallel: concurrency, budgetMs, timeoutMs: callTimeoutMs, call: fn, isTimeout });
  const startBody = { method: 'POST' as const, headers: auth, body: query, expect: [202] };
  const bridgeStarts = (count: number, budgetMs: number) =>
    cannon({ url: `${bridgeUrl}/v1/jobs/policy-check`, amount: count, budgetMs, ...startBody });
  const tracedStarts = (count: number, budgetMs: number) =>
    cannon({ url: `${traced.url}/v1/jobs/policy-check`, amount: count, budgetMs, ...startBody });
  const edgeStarts = (count: number, budgetMs: number) =>
    edge === undefined
      ? Promise.reject(new Error('HAProxy is not running'))
      : cannon({ url: `${edgeUrl}/v1/jobs/policy-check`, amount: count, budgetMs, ...startBody });

  // The job the reads and long-polls look at: started through the bridge, never run (no worker),
  // so it stays RUNNING.
  const first = await call(`${bridgeUrl}/v1/jobs/policy-check`, {
    method: 'POST',
    headers: auth,
    body: query,
    timeoutMs: callTimeoutMs,
  });
  if (first.status !== 202)
    throw new Error(`starting a job through the bridge answered ${first.status}: ${first.body}`);
  const jobId = (JSON.parse(first.body) as { jobId: string }).jobId;
  const handle = client.workflow.getHandle(jobId);
  const describe = (deadline: number) => client.withDeadline(deadline, () => handle.describe());
  const bridgeReads = (count: number, budgetMs: number) =>
    cannon({ url: `${bridgeUrl}/v1/jobs/${jobId}`, amount: count, budgetMs, headers: auth, expect: [200] });

  const cheapUrl = `${bridgeUrl}/v1/jobs/no-such-route`; // authenticated, then 404: no Temporal call
  const healthz = (count: number, budgetMs: number) =>
    cannon({ url: `${bridgeUrl}/healthz`, amount: count, budgetMs, expect: [200] });
  const cheap = (count: number, budgetMs: number, tokens: string[]) => {
    let next = 0;
    return cannon({
      url: cheapUrl,
      method: 'POST',
      body: '{}',
      headers: auth,
      amount: count,
      budgetMs,
      expect: [404],
      ...(tokens.length === 0
        ? {}
        : {
            requests: [
              {
                setupRequest: (request) => ({
                  ...request,
                  headers: { ...request.headers, authorization: `Bearer ${tokens[next++ % tokens.length]}` },
                }),
              },
            ],
          }),
    });
  };

  // Webhook bodies: a GitHub push in its real shape (fields from @octokit/webhooks-examples), each
  // one different (a nonce), so every delivery is new and starts a job; padded to the size wanted.
  const example = (
    JSON.parse(readFileSync('node_modules/@octokit/webhooks-examples/api.github.com/index.json', 'utf8')) as Array<{
      name: string;
      examples: Array<Record<string, unknown>>;
    }>
  )
    .find((e) => e.name === 'push')!
    .examples.find((x) => x.ref === 'refs/heads/master')!;
  const pick = (value: unknown, keys: string[]) =>
    Object.fromEntries(keys.map((k) => [k, (value as Record<string, unknown>)[k]]));
  const repository = example.repository as Record<string, unknown>;
  const push = {
    ref: 'refs/heads/main',
    before: example.before,
    after: example.after,
    repository: {
      ...pick(repository, ['id', 'node_id', 'name', 'full_name', 'private', 'html_url', 'clone_url', 'default_branch']),
      owner: pick(repository.owner, ['login', 'id', 'type']),
    },
    pusher: example.pusher,
    sender: pick(example.sender, ['login', 'id', 'type']),
    created: false,
    deleted: false,
    forced: false,
    compare: example.compare,
    commits: [],
  };
  const padding = 'x'.repeat(20 * 1_048_576);
  const webhook = (bytes: number, event = 'push') => {
    const nonce = randomUUID();
    const base = JSON.stringify({ ...push, nonce, padding: '' }).length;
    const body = JSON.stringify({ ...push, nonce, padding: padding.slice(0, Math.max(0, bytes - base)) });
    return {
      body,
      headers: {
        'content-type': 'application/json',
        'x-github-event': event,
        'x-github-hook-id': '1',
        'x-github-delivery': randomUUID(),
        'x-hub-signature-256': `sha256=${createHmac('sha256', webhookSecret).update(body).digest('hex')}`,
      },
    };
  };
  const webhooks1k = (count: number, budgetMs: number) =>
    edge === undefined
      ? Promise.reject(new Error('HAProxy is not running'))
      : cannon({
          url: `${edgeUrl}/v1/webhooks/github`,
          method: 'POST',
          amount: count,
          budgetMs,
          expect: [202],
          ...webhook(1_024),
          requests: [{ setupRequest: (request) => ({ ...request, ...webhook(1_024) }) }],
        });
  // The same signed 1 KB body as an event no rule maps ("issues"): verified, parsed, matched against
  // the rules, answered 200 and recorded, but no job started: the intake's own cost.
  const webhooks1kIgnored = (count: number, budgetMs: number) =>
    edge === undefined
      ? Promise.reject(new Error('HAProxy is not running'))
      : cannon({
          url: `${edgeUrl}/v1/webhooks/github`,
          method: 'POST',
          amount: count,
          budgetMs,
          expect: [200],
          ...webhook(1_024, 'issues'),
          requests: [{ setupRequest: (request) => ({ ...request, ...webhook(1_024, 'issues') }) }],
        });

  const moduleContext: ModuleContext = {
    client,
    temporalAddress: temporal.address,
    dir,
    peer: {
      temporalHttp: temporal.httpAddress,
      temporalPid: temporal.process.pid!,
      bridgeUrl,
      bridgePid,
      ...(edge === undefined ? {} : { edge: { url: edgeUrl, pids: () => childPids(procs.haproxyMaster) } }),
      edgeEnv,
      token: rsToken,
      query,
      rounds,
      starts: n(1000),
      reads: n(1500),
      say,
      note,
    },
    people: {
      dir,
      rounds,
      requests: n(5000, 1000),
      refreshes: n(50, 10),
      visits: n(10, 3),
      query,
      startBridge: (env) => startBridge({ ...untraced, ...env }),
      say,
      note,
    },
  };
  if (only.length > 0) {
    clearInterval(sampler);
    finish(await runModules(moduleContext));
    return;
  }

  // --- warm-up --------------------------------------------------------------------------------
  phase = 'warm-up';
  const warmStarted = performance.now();
  await sdkLoop(n(100), 60_000, sdkStart);
  await bridgeStarts(n(100), 60_000);
  await tracedStarts(n(100), 60_000);
  if (edge !== undefined) await edgeStarts(n(100), 60_000);
  await sdkLoop(n(100), 30_000, describe);
  await bridgeReads(n(100), 30_000);
  await healthz(n(300), 30_000);
  await cheap(n(300), 30_000, []);
  if (edge !== undefined) await webhooks1k(n(50), 30_000);
  if (edge !== undefined) await webhooks1kIgnored(n(50), 30_000);
  say(`warm-up done in ${((performance.now() - warmStarted) / 1000).toFixed(1)} s`);
  const atRest = memoryPoint('atRest');
  say(`bridge RSS at rest ${mb(atRest)}`);

  // --- 1. job starts: SDK alone, through the bridge, through HAProxy and the bridge --------------
  const starts = {
    sdk: [] as Measured[],
    bridge: [] as Measured[],
    traced: [] as Measured[],
    haproxy: [] as Measured[],
  };
  for (let round = 1; round <= rounds; round += 1) {
    starts.sdk.push(await measure('starts: SDK alone', ['client'], () => sdkLoop(n(1000), 60_000, sdkStart), round));
    starts.bridge.push(await measure('starts: bridge', ['bridge'], () => bridgeStarts(n(1000), 60_000), round));
    starts.traced.push(
      await measure('starts: bridge, tracing on', ['bridge'], () => tracedStarts(n(1000), 60_000), round, traced.pid),
    );
    if (edge !== undefined) {
      starts.haproxy.push(
        await measure('starts: HAProxy + bridge', ['bridge', 'haproxy'], () => edgeStarts(n(1000), 60_000), round),
      );
    }
  }
  memoryPoint('afterStarts');
  const s = {
    sdk: combine(starts.sdk),
    bridge: combine(starts.bridge),
    traced: combine(starts.traced),
    haproxy: combine(starts.haproxy),
  };
  record.scenarios.starts = { ...s, tracedSpansReceived: spansReceived, exports: receiver.requests };
  // The traced bridge has done its part: its memory and sockets are not the measured bridge's.
  await traced.stop();

  // --- 2. job reads: GET /v1/jobs/{id} against describe() -------------------------------------
  const reads = { describe: [] as Measured[], bridge: [] as Measured[] };
  for (let round = 1; round <= rounds; round += 1) {
    reads.describe.push(
      await measure('reads: describe()', ['client'], () => sdkLoop(n(1500), 30_000, describe), round),
    );
    reads.bridge.push(await measure('reads: bridge', ['bridge'], () => bridgeReads(n(1500), 30_000), round));
  }
  memoryPoint('afterReads');
  const r = { describe: combine(reads.describe), bridge: combine(reads.bridge) };
  record.scenarios.reads = r;

  // --- 3. an authenticated cheap request against /healthz: one token (warm), a new one each (cold)
  const coldCount = n(600);
  const mintStarted = performance.now();
  const coldTokens: string[] = [];
  for (let i = 0; i < rounds * coldCount + 64; i += 1) {
    coldTokens.push(await issuer.mint({ sub: `bench-cold-${i}` }, { alg: 'RS256', expiresIn: 7200 }));
  }
  say(
    `minted ${coldTokens.length} RS256 tokens for the cold runs in ${((performance.now() - mintStarted) / 1000).toFixed(1)} s`,
  );
  const tokens = { healthz: [] as Measured[], warm: [] as Measured[], cold: [] as Measured[] };
  for (let round = 1; round <= rounds; round += 1) {
    tokens.healthz.push(await measure('auth: /healthz', ['bridge'], () => healthz(n(3000), 30_000), round));
    tokens.warm.push(await measure('auth: 404, same token', ['bridge'], () => cheap(n(3000), 30_000, []), round));
    const batch = coldTokens.slice((round - 1) * coldCount, round * coldCount + 32);
    tokens.cold.push(
      await measure('auth: 404, new token each', ['bridge'], () => cheap(coldCount, 30_000, batch), round),
    );
  }
  memoryPoint('afterAuth');
  const t = { healthz: combine(tokens.healthz), warm: combine(tokens.warm), cold: combine(tokens.cold) };
  record.scenarios.auth = t;

  // --- 4. a signed 1 KB GitHub webhook through HAProxy: CPU per delivery (each starts a job) -----
  let hook1k: Measured | undefined;
  let hook1kIgnored: Measured | undefined;
  if (edge === undefined) {
    note('webhooks skipped: HAProxy is not running');
  } else {
    hook1k = await measure('webhook 1 KB via HAProxy', ['bridge', 'haproxy'], () => webhooks1k(n(1000), 60_000));
    hook1kIgnored = await measure('webhook 1 KB via HAProxy, no job (ignored event)', ['bridge', 'haproxy'], () =>
      webhooks1kIgnored(n(1000), 60_000),
    );
    memoryPoint('afterWebhook1KB');
  }

  // --- 5. long-polls: 200 waiters with ?wait=8 on the running job ------------------------------
  const waiters = n(200);
  let longPoll: Record<string, unknown> = {};
  await measure('long-poll: wait=8', ['bridge'], async () => {
    const before = rssBytes(procs.bridge);
    const began = performance.now();
    const answers = Array.from({ length: waiters }, () =>
      call(`${bridgeUrl}/v1/jobs/${jobId}?wait=8`, { headers: auth, timeoutMs: 8_000 + 15_000, agent: false }),
    );
    await sleep(4_000);
    const during = rssBytes(procs.bridge);
    const fds = openFds(procs.bridge);
    const settled = await Promise.all(answers);
    const elapsedMs = performance.now() - began;
    const times = settled.filter((a) => a.status !== 0).map((a) => a.ms / 1000);
    const statuses: Record<string, number> = {};
    for (const a of settled) statuses[String(a.status)] = (statuses[String(a.status)] ?? 0) + 1;
    longPoll = {
      waiters,
      statuses,
      answeredAfterSeconds: { min: Math.min(...times), p50: percentile(times, 50), max: Math.max(...times) },
      rssBefore: before,
      rssWhileWaiting: during,
      perWaiterBytes: (during - before) / waiters,
      bridgeOpenFds: fds,
    };
    say(
      `  long-poll: ${statuses['200'] ?? 0}/${waiters} answered 200 after ${times.length > 0 ? `${Math.min(...times).toFixed(1)}–${Math.max(...times).toFixed(1)} s (p50 ${percentile(times, 50).toFixed(1)} s)` : 'never'}; ` +
        `bridge fds ${fds}, RSS ${signedMb(during - before)} while waiting (${((during - before) / waiters / 1024).toFixed(1)} KB each)`,
    );
    const ok = statuses['200'] ?? 0;
    const answered = times.length;
    return {
      ...emptyRun(waiters, elapsedMs),
      answered,
      ok,
      failed: settled.filter((a) => !a.timedOut).length - ok,
      timedOut: settled.filter((a) => a.timedOut).length,
      statuses,
      finished: true,
      throughput: (ok * 1000) / elapsedMs,
      p50: percentile(
        times.map((x) => x * 1000),
        50,
      ),
      p99: percentile(
        times.map((x) => x * 1000),
        99,
      ),
    };
  });
  record.scenarios.longPoll = longPoll;
  memoryPoint('afterLongPoll');

  // --- 5b. job event streams: 1,000 held open on the one bridge --------------------------------
  const streams = await measureStreams({ bridgePort, metricsAddress, auth, issuer, ownFiles, bridgeFiles });
  record.scenarios.jobEventStreams = streams;
  memoryPoint('afterStreams');

  // --- 6. idle long-polls: up to 10,000 held open on the one bridge -----------------------------
  let idle: Record<string, unknown> = {};
  let idleReleased = 0;
  const fdsAtStart = openFds(procs.bridge);
  const room = Math.min(bridgeFiles - fdsAtStart, ownFiles - openFds(process.pid)) - 500;
  const idleCount = Math.min(idlePolls, room);
  if (idleCount < idlePolls) {
    note(`idle long-polls capped at ${idleCount} by open-file limits (bench ${ownFiles}, bridge ${bridgeFiles})`);
  }
  await measure('idle long-polls', ['bridge'], async () => {
    const began = performance.now();
    const stopAt = Date.now() + 120_000;
    const before = rssBytes(procs.bridge);
    const sockets: Socket[] = [];
    const tally = { connected: 0, requests: 0, waiting: 0, repolls: 0, retries: 0, errors: 0, closedByBridge: 0 };
    const statuses: Record<string, number> = {};
    const samples: string[] = [];
    let stopping = false;
    const request =
      `GET /v1/jobs/${jobId}?wait=30 HTTP/1.1\r\nHost: 127.0.0.1:${bridgePort}\r\n` +
      `Authorization: Bearer ${rsToken}\r\nConnection: keep-alive\r\n\r\n`;
    // Each client behaves as a long-polling client would: it asks again at once when its wait ends
    // (200), and 2 s after any other answer. Raw sockets: one per client, one request at a time.
    const open = () => {
      const socket = connect(bridgePort, '127.0.0.1');
      let waiting = false;
      const ask = () => {
        if (stopping || socket.destroyed) return;
        socket.write(request);
        waiting = true;
        tally.waiting += 1;
        tally.requests += 1;
      };
      socket.once('connect', () => {
        tally.connected += 1;
        ask();
      });
      socket.on('data', (chunk: Buffer) => {
        // Only a status line ends a wait; the rest of a response may come in later chunks.
        if (!waiting || chunk.toString('latin1', 0, 9) !== 'HTTP/1.1 ') return;
        waiting = false;
        tally.waiting -= 1;
        const code = chunk.toString('latin1', 9, 12);
        statuses[code] = (statuses[code] ?? 0) + 1;
        if (code === '200') {
          tally.repolls += 1;
          ask();
          return;
        }
        // A few refusals as they came, to say why (the problem document's title and detail).
        const text = chunk.toString('utf8');
        if (samples.length < 3 && !samples.some((x) => x.startsWith(code))) {
          samples.push(`${code} ${text.slice(text.indexOf('\r\n\r\n') + 4).slice(0, 300)}`);
        }
        tally.retries += 1;
        setTimeout(ask, 2_000).unref();
      });
      socket.on('error', () => (tally.errors += 1));
      socket.on('close', () => {
        if (waiting) tally.waiting -= 1;
        waiting = false;
        if (!stopping) tally.closedByBridge += 1;
      });
      sockets.push(socket);
    };
    // A ramp, not a wall: 100 every 250 ms (400 a second), well under what the bridge can set up.
    for (let i = 0; i < idleCount && Date.now() < stopAt; i += 100) {
      for (let j = i; j < Math.min(idleCount, i + 100); j += 1) open();
      await sleep(250);
    }
    const rampMs = performance.now() - began;
    // Held: the bridge has accepted them all and is no longer busy setting them up.
    await until(() => openFds(procs.bridge) - fdsAtStart >= 0.98 * tally.connected, 10_000, 250);
    await quiet(15_000);
    const whileHeld = rssBytes(procs.bridge);
    const fdsHeld = openFds(procs.bridge);
    const held = tally.waiting;
    record.memory.points.duringIdlePolls = whileHeld;
    await heapPoint('duringIdlePolls');
    // A clean abort: every client leaves, and the bridge should let go of every wait.
    stopping = true;
    for (const socket of sockets) socket.destroy();
    const released = await until(() => openFds(procs.bridge) <= fdsAtStart + 10, 20_000, 250);
    idleReleased = Date.now();
    await quiet(20_000);
    const after = rssBytes(procs.bridge);
    const refused = Object.entries(statuses)
      .filter(([code]) => code !== '200')
      .reduce((sum, [, count]) => sum + count, 0);
    idle = {
      planned: idleCount,
      connected: tally.connected,
      rampSeconds: rampMs / 1000,
      heldAtMeasurement: held,
      requests: tally.requests,
      repollsAfterWaitEnded: tally.repolls,
      retriesAfterRefusal: tally.retries,
      statuses,
      refusals: samples,
      connectErrors: tally.errors,
      closedByBridge: tally.closedByBridge,
      rssBefore: before,
      rssWhileHeld: whileHeld,
      growthBytes: whileHeld - before,
      perPollBytes: (whileHeld - before) / Math.max(1, held),
      bridgeFdsHeld: fdsHeld,
      releasedWithin20s: released,
      bridgeFdsAfter: openFds(procs.bridge),
      rssAfterRelease: after,
    };
    say(
      `  idle long-polls: ${tally.connected}/${idleCount} connected in ${(rampMs / 1000).toFixed(1)} s, ${held} waiting when measured ` +
        `(bridge fds ${fdsHeld}); ${tally.requests} requests (${tally.repolls} re-polls after a wait ended, ${refused} refused ` +
        `${JSON.stringify(Object.fromEntries(Object.entries(statuses).filter(([c]) => c !== '200')))}); ` +
        `RSS ${mb(before)} → ${mb(whileHeld)} (${signedMb(whileHeld - before)}, ${((whileHeld - before) / Math.max(1, held) / 1024).toFixed(1)} KB per waiting poll), ` +
        `${mb(after)} after release${released ? '' : ' (bridge still holding sockets after 20 s)'}`,
    );
    for (const sample of samples) say(`  refused: ${sample.replace(/\s+/g, ' ')}`);
    return {
      ...emptyRun(idleCount, performance.now() - began),
      // CPU per op is per long-poll request: set-up, answer or release.
      answered: tally.requests,
      ok: held,
      failed: tally.errors + refused,
      statuses,
      finished: tally.connected >= idleCount,
    };
  });
  record.scenarios.idleLongPolls = idle;
  memoryPoint('afterIdlePolls');

  // --- 7. a signed 20 MB GitHub webhook through HAProxy: time to its 202. Last, so that what it
  // leaves behind does not blur the long-polls' memory figures; after the bridge's 30 s waits from
  // the idle long-polls have all ended and the bridge and Temporal are quiet again ------------------
  phase = 'after the idle long-polls';
  const left = idleReleased + 32_000 - Date.now();
  if (idleReleased > 0 && left > 0) {
    say(`waiting ${(left / 1000).toFixed(0)} s for the idle long-polls' 30 s waits to end`);
    await sleep(left);
  }
  await quiet(20_000, [procs.bridge, temporal.process.pid!]);
  memoryPoint('idleWaitsOver');
  let hook20m: Measured | undefined;
  if (edge !== undefined) {
    // One at a time, each body built and signed before its clock starts.
    const count = n(12, 3);
    const times: number[] = []; // to the 202s only
    let refusal: string | undefined;
    hook20m = await measure('webhook 20 MB via HAProxy', ['bridge', 'haproxy'], async () => {
      const began = performance.now();
      const stopAt = Date.now() + 120_000;
      const run = emptyRun(count);
      for (let i = 0; i < count && Date.now() < stopAt; i += 1) {
        const { body, headers } = webhook(20 * 1_048_576);
        const bytes = Buffer.from(body);
        const answer = await call(`${edgeUrl}/v1/webhooks/github`, {
          method: 'POST',
          headers: { ...headers, 'content-length': String(bytes.length) },
          body: bytes,
          timeoutMs: 30_000,
        });
        run.statuses[String(answer.status)] = (run.statuses[String(answer.status)] ?? 0) + 1;
        if (answer.timedOut) run.timedOut += 1;
        else if (answer.status === 0) run.failed += 1;
        else {
          run.answered += 1;
          if (answer.status === 202) {
            run.ok += 1;
            times.push(answer.ms);
          } else {
            run.failed += 1;
            if (refusal === undefined) refusal = `${answer.status} ${answer.body.slice(0, 300)}`;
          }
        }
      }
      run.elapsedMs = performance.now() - began;
      run.finished = run.answered + run.failed + run.timedOut >= count;
      run.throughput = (run.ok * 1000) / run.elapsedMs;
      run.p50 = percentile(times, 50);
      run.p99 = percentile(times, 99);
      if (refusal !== undefined) say(`  refused: ${refusal.replace(/\s+/g, ' ')}`);
      return run;
    });
    memoryPoint('afterWebhook20MB');
  }

  record.scenarios.webhooks = { '1KB': hook1k, '1KBIgnored': hook1kIgnored, '20MB': hook20m };

  // --- 7b. the delivery log: what recording a delivery costs the bridge, per record -----------
  phase = 'delivery log';
  let logCost: DeliveryLogCost | undefined;
  try {
    logCost = await measureDeliveryLog(n(5_000));
    record.scenarios.deliveryLog = logCost;
    say(
      `delivery log: ${logCost.records} records, bridge CPU per record ${logCost.memoryCpuUs.toFixed(1)} µs in memory, ${
        logCost.postgresCpuUs === undefined
          ? `PostgreSQL skipped (${logCost.postgresSkipped})`
          : `${logCost.postgresCpuUs.toFixed(1)} µs to PostgreSQL (${logCost.postgresWallMs!.toFixed(0)} ms for all)`
      }`,
    );
  } catch (error) {
    note(`delivery log not measured: ${(error as Error).message}`);
  }

  // --- 8. memory at the end, and what the bridge's heap holds ---------------------------------
  phase = 'end';
  await quiet(10_000);
  memoryPoint('atEnd');
  record.memory.peak = peakRssBytes(procs.bridge);
  say(
    `bridge RSS: ${Object.entries(record.memory.points)
      .map(([k, v]) => `${k} ${mb(v)}`)
      .join(
        ', ',
      )}; peak (VmHWM) ${mb(record.memory.peak)}, highest sample ${mb(record.memory.sampledMax)} during "${record.memory.sampledMaxAt}"`,
  );
  await Promise.all(heapReads);
  say(
    `bridge V8 heap, used / total: ${Object.entries(record.memory.heap)
      .map(([k, v]) => `${k} ${mb(v.used)} / ${mb(v.total)}`)
      .join(', ')}`,
  );
  clearInterval(sampler);
  record.heap = await heapSummary(diagnostics, bridgeUrl);
  save();
  const moduleRows = await runModules(moduleContext);

  // --- the targets -----------------------------------------------------------------------------
  const rows: TargetRow[] = [];
  const row = (
    target: string,
    figure: string,
    ratio: number,
    need: string,
    ok: (x: number) => boolean,
    rowNote?: string,
  ) =>
    rows.push({
      target,
      figure,
      ratio,
      need,
      met: Number.isFinite(ratio) ? ok(ratio) : undefined,
      ...(rowNote === undefined ? {} : { note: rowNote }),
    });
  /** A row shown for context, with no target of its own. */
  const reference = (target: string, figure: string, ratio: number) =>
    rows.push({ target, figure, ratio, need: '(for reference)', met: undefined });
  const cpuPair = (a: number, b: number) => `${ms(a)} vs ${ms(b)}`;
  row(
    'bridge CPU per job start / SDK client CPU per start',
    cpuPair(s.bridge.cpuMsPerOp.bridge, s.sdk.cpuMsPerOp.client),
    s.bridge.cpuMsPerOp.bridge / s.sdk.cpuMsPerOp.client,
    '≤ 1.5x',
    (x) => x <= 1.5,
  );
  row(
    'tracing: bridge CPU per start, on / off',
    cpuPair(s.traced.cpuMsPerOp.bridge, s.bridge.cpuMsPerOp.bridge),
    s.traced.cpuMsPerOp.bridge / s.bridge.cpuMsPerOp.bridge,
    '≤ 1.5x',
    (x) => x <= 1.5,
    'spans exported over OTLP/HTTP to a receiver in the bench process',
  );
  row(
    'bridge CPU per job read / describe() client CPU',
    cpuPair(r.bridge.cpuMsPerOp.bridge, r.describe.cpuMsPerOp.client),
    r.bridge.cpuMsPerOp.bridge / r.describe.cpuMsPerOp.client,
    '≤ 2x',
    (x) => x <= 2,
  );
  row(
    'starts/s through the bridge / SDK alone',
    `${s.bridge.throughput.toFixed(0)} vs ${s.sdk.throughput.toFixed(0)}/s`,
    s.bridge.throughput / s.sdk.throughput,
    '≥ 0.90x',
    (x) => x >= 0.9,
  );
  row(
    'starts/s through HAProxy + bridge / SDK alone',
    `${s.haproxy.throughput.toFixed(0)} vs ${s.sdk.throughput.toFixed(0)}/s`,
    edge === undefined ? Number.NaN : s.haproxy.throughput / s.sdk.throughput,
    '≥ 0.85x',
    (x) => x >= 0.85,
  );
  row(
    'authenticated 404, warm token / /healthz (req/s)',
    `${t.warm.throughput.toFixed(0)} vs ${t.healthz.throughput.toFixed(0)}/s`,
    t.warm.throughput / t.healthz.throughput,
    '≥ 0.8x',
    (x) => x >= 0.8,
  );
  reference(
    'authenticated 404, new token each / /healthz',
    `${t.cold.throughput.toFixed(0)} vs ${t.healthz.throughput.toFixed(0)}/s`,
    t.cold.throughput / t.healthz.throughput,
  );
  row(
    'signed 20 MB webhook to its 202, p50',
    hook20m === undefined ? 'n/a' : ms(hook20m.p50, 0),
    (hook20m?.p50 ?? Number.NaN) / 200,
    '< 200 ms',
    (x) => x < 1,
  );
  row(
    'signed 1 KB webhook, bridge CPU per delivery',
    hook1k === undefined ? 'n/a' : ms(hook1k.cpuMsPerOp.bridge),
    hook1k?.cpuMsPerOp.bridge ?? Number.NaN,
    '≤ 1 ms',
    (x) => x <= 1,
  );
  // What the delivery costs apart from its workflow start: a start costs the bridge at least what
  // it costs the SDK client alone (measured above, same run).
  const startClientMs = s.sdk.cpuMsPerOp.client;
  reference(
    'signed 1 KB webhook, bridge CPU per delivery less the SDK client CPU of its start',
    hook1k === undefined
      ? 'n/a'
      : `${ms(hook1k.cpuMsPerOp.bridge - startClientMs)} (${ms(hook1k.cpuMsPerOp.bridge)} - ${ms(startClientMs)})`,
    (hook1k?.cpuMsPerOp.bridge ?? Number.NaN) - startClientMs,
  );
  reference(
    'signed 1 KB webhook that starts no job (ignored event), bridge CPU per delivery',
    hook1kIgnored === undefined ? 'n/a' : ms(hook1kIgnored.cpuMsPerOp.bridge),
    hook1kIgnored?.cpuMsPerOp.bridge ?? Number.NaN,
  );
  const perDeliveryUs = (hook1k?.cpuMsPerOp.bridge ?? Number.NaN) * 1000;
  const recordUs = Math.max(logCost?.memoryCpuUs ?? Number.NaN, logCost?.postgresCpuUs ?? 0);
  row(
    'delivery log: CPU per record / bridge CPU per 1 KB delivery',
    logCost === undefined ? 'n/a' : `${recordUs.toFixed(1)} µs vs ${perDeliveryUs.toFixed(0)} µs`,
    recordUs / perDeliveryUs,
    '≤ 0.05x',
    (x) => x <= 0.05,
    'recorded after the answer, off the 202 path; the larger of memory and PostgreSQL',
  );
  row('bridge RSS at rest', mb(atRest), atRest / (120 * 1_048_576), '≤ 120 MB', (x) => x <= 1);
  row(
    'bridge RSS at every point (VmHWM)',
    mb(record.memory.peak),
    record.memory.peak / (150 * 1_048_576),
    '≤ 150 MB',
    (x) => x <= 1,
    `highest sample during "${record.memory.sampledMaxAt}"`,
  );
  const growth = Number(idle.growthBytes ?? Number.NaN);
  const held = Number(idle.heldAtMeasurement ?? 0);
  row(
    `${idlePollTarget} idle long-polls: bridge RSS growth`,
    `${signedMb(growth)} at ${held} waiting`,
    growth / (100 * 1_048_576),
    '< 100 MB',
    (x) => x < 1,
    held < 0.95 * idlePollTarget ? `${held} of ${idlePollTarget} waiting: indicative only` : undefined,
  );
  const streamGrowth = Number(streams.growthBytes ?? Number.NaN);
  const streamsHeld = Number(streams.held ?? 0);
  row(
    `${streamTarget} job event streams: bridge RSS growth`,
    `${signedMb(streamGrowth)} at ${streamsHeld} open (${(streamGrowth / Math.max(1, streamsHeld) / 1024).toFixed(1)} KB each)`,
    streamGrowth / streamBudgetBytes,
    `< ${streamBudgetBytes / 1_048_576} MB`,
    (x) => x < 1,
    streamsHeld < 0.95 * streamTarget
      ? `${streamsHeld} of ${streamTarget} open: indicative only`
      : `${Number(streams.watches ?? Number.NaN)} Temporal watches; bridge CPU ${Number(streams.heldCpuMsPerStreamMinute ?? Number.NaN).toFixed(2)} ms per stream-minute held`,
  );
  rows.push(...moduleRows);
  finish(rows);
}

/** Records the targets, prints the table and where the record is. */
function finish(rows: TargetRow[]): void {
  record.targets = rows;
  record.complete = true;
  save();

  say('\nTargets (CPU per call: all rounds summed; speed: median round)');
  const widths = [
    Math.max(...rows.map((x) => x.target.length)),
    Math.max(...rows.map((x) => x.figure.length)),
    7,
    Math.max(...rows.map((x) => x.need.length)),
  ];
  for (const x of rows) {
    const result = x.met === undefined ? (x.need.startsWith('(') ? '' : 'not measured') : x.met ? 'met' : 'NOT MET';
    say(
      `${x.target.padEnd(widths[0]!)}  ${x.figure.padEnd(widths[1]!)}  ${(Number.isFinite(x.ratio) ? `${x.ratio.toFixed(2)}x` : 'n/a').padStart(widths[2]!)}  ${x.need.padEnd(widths[3]!)}  ${result}${x.note === undefined ? '' : `  (${x.note})`}`,
    );
  }
  if (scale !== 1) say(`(BENCH_SCALE=${scale}: counts are scaled down, the figures are indicative)`);
  say(`\nwritten ${resultFile}`);
}

/** The scenario modules (bench/scenarios/) this run includes; their rows for the table. */
interface ModuleContext {
  client: Client;
  temporalAddress: string;
  dir: string;
  peer: PeerContext;
  people: PeopleContext;
}

async function runModules(ctx: ModuleContext): Promise<TargetRow[]> {
  const rows: TargetRow[] = [];
  if (runs('peer')) {
    phase = 'peer';
    say(
      "peer: the same workflow started and read through Temporal's HTTP API, bare and behind HAProxy, and through Gatehouse",
    );
    try {
      const peer = await measurePeer(ctx.peer);
      record.scenarios.peer = peer;
      save();
      rows.push(...peerTargets(peer));
    } catch (error) {
      note(`peer: not measured: ${String(error)}`);
    }
  }
  if (runs('workers')) {
    phase = 'workers';
    say('workers: each queue worker as production runs it, next to a minimal SDK worker (the floor)');
    const workers: WorkersResult = await measureWorkers({
      client: ctx.client,
      temporalAddress: ctx.temporalAddress,
      dir: ctx.dir,
      rounds,
      loadMs: Math.max(10_000, Math.round(30_000 * scale)),
      say,
      note,
    });
    record.scenarios.workers = workers;
    save();
    rows.push(...workerTargets(workers));
  }
  if (runs('people')) {
    phase = 'people';
    say(
      'people: browser sign-in at the edge: a session cookie against a bearer token, the refresh, the console in Chromium',
    );
    try {
      const people = await measurePeople(ctx.people);
      record.scenarios.people = people;
      save();
      rows.push(...peopleTargets(people));
    } catch (error) {
      note(`people: not measured: ${String(error)}`);
    }
  }
  return rows;
}

/**
 * Job event streams: `streamCount` streams (GET /v1/jobs/{id}/events) held open on the one bridge
 * over raw sockets, on 10 idle jobs (no worker runs them), so each job's streams share one watch.
 * 50 admin subjects open 20 each (limits.maxStreamsPerCaller), 200 every 250 ms. Measured: the
 * set-up CPU per stream, RSS growth while they are held (after the bridge is quiet), the bridge's
 * CPU over a 30 s hold (heartbeats: one per stream every limits.streamHeartbeat, 15 s), the
 * watches the gauge reports, then every client leaves and the bridge must let go of them all.
 */
async function measureStreams(options: {
  bridgePort: number;
  metricsAddress: string;
  auth: Record<string, string>;
  issuer: Awaited<ReturnType<typeof startDevIssuer>>;
  ownFiles: number;
  bridgeFiles: number;
}): Promise<Record<string, unknown>> {
  const { bridgePort } = options;
  const bridgeUrl = `http://127.0.0.1:${bridgePort}`;
  const fdsAtStart = openFds(procs.bridge);
  const room = Math.min(options.bridgeFiles - fdsAtStart, options.ownFiles - openFds(process.pid)) - 500;
  const count = Math.min(streamCount, room);
  if (count < streamCount) note(`event streams capped at ${count} by open-file limits`);
  const jobs: string[] = [];
  for (let i = 0; i < 10; i += 1) {
    const answer = await call(`${bridgeUrl}/v1/jobs/policy-check`, {
      method: 'POST',
      headers: options.auth,
      body: query,
      timeoutMs: callTimeoutMs,
    });
    if (answer.status === 202) jobs.push((JSON.parse(answer.body) as { jobId: string }).jobId);
  }
  if (jobs.length === 0) {
    note('event streams not measured: no job could be started');
    return {};
  }
  const perSubject = 20;
  const tokens: string[] = [];
  for (let i = 0; i < Math.ceil(count / perSubject); i += 1) {
    tokens.push(
      await options.issuer.mint(
        { sub: `bench-sse-${i}`, groups: ['gatehouse-admins'] },
        { alg: 'ES256', expiresIn: 7200 },
      ),
    );
  }
  const gauge = async () => {
    const answer = await call(`http://${options.metricsAddress}/metrics`, { timeoutMs: callTimeoutMs });
    const value = (kind: string) =>
      Number(new RegExp(`gatehouse_job_streams\\{kind="${kind}"\\} (\\d+)`).exec(answer.body)?.[1] ?? Number.NaN);
    return { clients: value('clients'), watches: value('watches') };
  };
  let result: Record<string, unknown> = {};
  await measure('job event streams', ['bridge'], async () => {
    const began = performance.now();
    const stopAt = Date.now() + 120_000;
    await quiet(15_000);
    const before = rssBytes(procs.bridge);
    const cpuBefore = cpuMs(procs.bridge);
    const sockets: Socket[] = [];
    const tally = { connected: 0, open: 0, heartbeats: 0, errors: 0, closedByBridge: 0 };
    const statuses: Record<string, number> = {};
    let stopping = false;
    const open = (i: number) => {
      const socket = connect(bridgePort, '127.0.0.1');
      let seen = '';
      let opened = false;
      socket.setEncoding('latin1');
      socket.once('connect', () => {
        tally.connected += 1;
        socket.write(
          `GET /v1/jobs/${jobs[i % jobs.length]}/events HTTP/1.1\r\nHost: 127.0.0.1:${bridgePort}\r\n` +
            `Authorization: Bearer ${tokens[Math.floor(i / perSubject)]}\r\nAccept: text/event-stream\r\n\r\n`,
        );
      });
      socket.on('data', (chunk: string) => {
        if (!opened) {
          seen += chunk;
          if (seen.length < 12) return;
          const code = seen.slice(9, 12);
          if (code !== '200') {
            statuses[code] = (statuses[code] ?? 0) + 1;
            opened = true; // answered, not a stream
            return;
          }
          if (!seen.includes('event: status')) return;
          opened = true;
          tally.open += 1;
          statuses[code] = (statuses[code] ?? 0) + 1;
          seen = '';
          return;
        }
        if (chunk.includes(': keep-alive')) tally.heartbeats += 1;
      });
      socket.on('error', () => (tally.errors += 1));
      socket.on('close', () => {
        if (!stopping) tally.closedByBridge += 1;
      });
      sockets.push(socket);
    };
    for (let i = 0; i < count && Date.now() < stopAt; i += 200) {
      for (let j = i; j < Math.min(count, i + 200); j += 1) open(j);
      await sleep(250);
    }
    await until(() => Object.values(statuses).reduce((a, b) => a + b, 0) + tally.errors >= count, 20_000, 100);
    const rampMs = performance.now() - began;
    const setupCpu = cpuMs(procs.bridge) - cpuBefore;
    await quiet(15_000);
    const whileHeld = rssBytes(procs.bridge);
    const held = tally.open;
    const seenByGauge = await gauge();
    // Held for 30 s: what the open streams cost the bridge while nothing happens (heartbeats).
    const holdCpuBefore = cpuMs(procs.bridge);
    const beatsBefore = tally.heartbeats;
    const holdMs = 30_000;
    await sleep(holdMs);
    const holdCpu = cpuMs(procs.bridge) - holdCpuBefore;
    const heartbeats = tally.heartbeats - beatsBefore;
    record.memory.points.duringStreams = whileHeld;
    stopping = true;
    for (const socket of sockets) socket.destroy();
    const released = await until(() => openFds(procs.bridge) <= fdsAtStart + 10, 20_000, 250);
    const afterGauge = await gauge();
    await quiet(15_000);
    const after = rssBytes(procs.bridge);
    result = {
      planned: count,
      jobs: jobs.length,
      connected: tally.connected,
      held,
      statuses,
      connectErrors: tally.errors,
      closedByBridge: tally.closedByBridge,
      rampSeconds: rampMs / 1000,
      setupCpuMsPerStream: setupCpu / Math.max(1, held),
      watches: seenByGauge.watches,
      clientsByGauge: seenByGauge.clients,
      rssBefore: before,
      rssWhileHeld: whileHeld,
      growthBytes: whileHeld - before,
      perStreamBytes: (whileHeld - before) / Math.max(1, held),
      heldSeconds: holdMs / 1000,
      heartbeatsWhileHeld: heartbeats,
      heldCpuMs: holdCpu,
      heldCpuMsPerStreamMinute: (holdCpu / Math.max(1, held)) * (60_000 / holdMs),
      releasedWithin20s: released,
      gaugeAfterRelease: afterGauge,
      rssAfterRelease: after,
    };
    say(
      `  job event streams: ${held}/${count} open on ${jobs.length} jobs (${seenByGauge.watches} watches) in ${(rampMs / 1000).toFixed(1)} s, ` +
        `${(setupCpu / Math.max(1, held)).toFixed(2)} ms CPU each to set up; RSS ${mb(before)} → ${mb(whileHeld)} ` +
        `(${signedMb(whileHeld - before)}, ${((whileHeld - before) / Math.max(1, held) / 1024).toFixed(1)} KB each); ` +
        `held ${holdMs / 1000} s: ${heartbeats} heartbeats, ${holdCpu} ms CPU; ${mb(after)} after release` +
        `${released ? '' : ' (bridge still holding sockets after 20 s)'}${tally.closedByBridge > 0 ? `, ${tally.closedByBridge} closed by the bridge` : ''}`,
    );
    return {
      ...emptyRun(count, performance.now() - began),
      answered: Object.values(statuses).reduce((a, b) => a + b, 0),
      ok: held,
      failed:
        tally.errors +
        Object.entries(statuses)
          .filter(([code]) => code !== '200')
          .reduce((a, [, n]) => a + n, 0),
      statuses,
      finished: held >= count,
    };
  });
  return result;
}

/** Waits (at most `timeoutMs`) until these processes use under 20% of a core over half a second. */
async function quiet(timeoutMs: number, pids = [procs.bridge]): Promise<boolean> {
  let last = cpuMsOf(pids);
  return until(
    async () => {
      await sleep(500);
      const now = cpuMsOf(pids);
      const busy = now - last;
      last = now;
      return busy < 100;
    },
    timeoutMs,
    0,
  );
}

/** SIGUSR2 makes the bridge write a heap snapshot; wait for it, summarize it, delete it. */
async function heapSummary(diagnostics: string, bridgeUrl: string): Promise<HeapSummary | undefined> {
  phase = 'heap snapshot';
  const snapshots = () => readdirSync(diagnostics).filter((f) => f.endsWith('.heapsnapshot'));
  try {
    process.kill(procs.bridge, 'SIGUSR2');
    if (!(await until(() => snapshots().length > 0, 30_000, 200))) throw new Error('no .heapsnapshot within 30 s');
    // The snapshot is written on the bridge's main thread: once it answers again, the file is whole.
    const answered = await until(
      async () => (await call(`${bridgeUrl}/healthz`, { timeoutMs: 5_000 })).status === 200,
      120_000,
      200,
    );
    const file = join(diagnostics, snapshots()[0]!);
    let size = -1;
    await until(
      () => {
        const now = statSync(file).size;
        const stable = now === size;
        size = now;
        return answered && stable;
      },
      30_000,
      300,
    );
    const summary = summarizeHeapSnapshot(file);
    say(formatHeapSummary(summary));
    rmSync(file);
    return summary;
  } catch (error) {
    note(`no heap summary: ${String(error)}`);
    return undefined;
  }
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise((done) => child.once('exit', done));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await gone;
  clearTimeout(timer);
}

async function cleanUp(): Promise<void> {
  for (const cleanup of cleanups.reverse().splice(0)) {
    try {
      await cleanup();
    } catch (error) {
      process.stderr.write(`bench cleanup: ${String(error)}\n`);
    }
  }
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    process.stderr.write(`bench: ${signal}, stopping what it started\n`);
    void cleanUp().then(() => process.exit(130));
  });
}

try {
  await main();
} catch (error) {
  process.exitCode = 1;
  process.stderr.write(`bench: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  save();
} finally {
  await cleanUp();
}
