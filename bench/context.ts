// What every scenario of the bench shares: the processes the run starts (a Temporal dev server, a
// dev issuer, the measured bridge, a second bridge with tracing on, HAProxy in front of the first),
// the Temporal client, the token the calls carry, the running job the reads and long-polls look at,
// the run's record, and what the measurements keep between them (the phase, the heap reads).
// startBench starts them in that order, prints the run's header, and adds how to stop each to
// `cleanups`.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { startDevIssuer, type DevIssuer } from '../src/dev/dev-issuer.js';
import { loopbackEdgeEnv, startEdge, type EdgeEnv, type EdgeProcess } from '../src/dev/edge-process.js';
import { startDevServer, temporalCli, type DevServer } from '../src/dev/temporal-dev-server.js';
import { startTraceReceiver } from '../src/dev/trace-receiver.js';
import { edgeConfigFiles } from '../src/edge/edge-files.js';
import { syncJwks } from '../src/edge/sync-jwks.js';
import { startBridge, untracedEnv, type BridgeProcess } from './bridge-process.js';
import { callTimeoutMs, concurrency, type Knobs } from './knobs.js';
import { call } from './load.js';
import { sampleMemory } from './memory.js';
import { childPids, clockTicks, fileLimit, raiseOwnFileLimit } from './proc.js';
import type { Report } from './record.js';
import { mb } from './targets.js';

export interface BenchContext {
  knobs: Knobs;
  report: Report;
  /** What the bench is doing now: the memory sampler names its highest point by it. */
  phase: string;
  /** Scratch directory of the run (removed at its end). */
  dir: string;
  /** Where the bridge writes its heap snapshot. */
  diagnostics: string;
  temporal: DevServer;
  issuer: DevIssuer;
  /** The bridge measured everywhere; it traces nothing. */
  bridge: BridgeProcess;
  /** A second bridge exporting every span to a receiver in this process (the starts scenario only). */
  traced: BridgeProcess & { spansReceived(): number; exports: { accepted: number; refused: number } };
  /** HAProxy in front of the bridge; undefined when it did not start (its scenarios are skipped). */
  edge?: { url: string; workerPids(): number[] };
  edgeEnv: EdgeEnv;
  client: Client;
  /** An RS256 token of `bench-rs`, and the headers that carry it. */
  token: string;
  auth: Record<string, string>;
  /** The policy-check job's input, as JSON. */
  query: string;
  webhookSecret: string;
  /** A job started through the bridge, never run (no worker), so it stays RUNNING. */
  jobId: string;
  /** Open-file limits: this process's and the bridge's. */
  openFiles: { bench: number; bridge: number };
  /** The heap reads memoryPoint started; awaited before the heap figures are printed. */
  heapReads: Array<Promise<void>>;
  stopSampler(): void;
  /** Another bridge process as the measured one is started (untraced), with these variables added. */
  startBridge(env: Record<string, string>): Promise<BridgeProcess>;
}

const query = JSON.stringify({
  action: { type: 'Gatehouse::Action', id: 'read' },
  resource: { type: 'Gatehouse::Repository', id: 'acme/website' },
});
const webhookSecret = 'bench-github-secret';

export async function startBench(
  knobs: Knobs,
  report: Report,
  cleanups: Array<() => Promise<void> | void>,
): Promise<BenchContext> {
  const { record, say, note } = report;
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
  const bridgeOptions = {
    temporalAddress: temporal.address,
    issuer,
    webhookSecret,
    diagnostics,
    nodeArgs: knobs.bridgeNodeArgs,
    cleanups,
  };
  // The bridge measured everywhere traces nothing (no OTEL_* endpoint). The traced one exports
  // every span to a receiver here, as it would to a collector.
  const untraced = untracedEnv();
  const bridge = await startBridge({ ...bridgeOptions, env: untraced });
  let spansReceived = 0;
  const receiver = await startTraceReceiver({ maxSpans: 1_000, onSpans: (spans) => (spansReceived += spans.length) });
  cleanups.push(() => receiver.close());
  // Exported every 0.5 s rather than the SDK's 5 s, so a round's spans are (nearly all) exported,
  // and paid for, within the round that made them.
  const traced = await startBridge({
    ...bridgeOptions,
    env: { ...untraced, OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_BSP_SCHEDULE_DELAY: '500' },
  });
  const bridgeFiles = fileLimit(bridge.pid).soft;

  // Both server slots point at the one bridge, so the edge scenarios measure the same bridge; rates
  // and in-flight caps are lifted so the edge measures cost, not its limits.
  const edgeEnv = await loopbackEdgeEnv({
    dir,
    issuer,
    bridges: [`127.0.0.1:${bridge.port}`, `127.0.0.1:${bridge.port}`],
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
  } catch (error) {
    note(`HAProxy did not start, its scenarios are skipped: ${String(error)}`);
  }
  const haproxyMaster = edge?.process.pid;

  const connection = await Connection.connect({ address: temporal.address, connectTimeout: callTimeoutMs });
  cleanups.push(() => connection.close());
  const client = new Client({ connection });
  const token = await issuer.mint({ sub: 'bench-rs' }, { alg: 'RS256', expiresIn: 7200 });
  const auth = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };

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
    scale: knobs.scale,
    rounds: knobs.rounds,
    concurrency,
    started: report.started.toISOString(),
  };
  say(
    `Gatehouse benchmark: ${record.machine.cores} cores (load ${record.machine.loadAverageAtStart}), Node ${process.version}, ` +
      `${String(record.machine.haproxy).replace(/ - https.*/, '')}, ${String(record.machine.temporal)}; scale ${knobs.scale}, ${knobs.rounds} rounds`,
  );
  say(
    `CPU time from /proc/<pid>/stat (${1000 / clockTicks} ms ticks) for the bridge and HAProxy's workers, process.cpuUsage() here`,
  );

  const ctx: BenchContext = {
    knobs,
    report,
    phase: 'start-up',
    dir,
    diagnostics,
    temporal,
    issuer,
    bridge,
    traced: { ...traced, spansReceived: () => spansReceived, exports: receiver.requests },
    ...(haproxyMaster === undefined
      ? {}
      : { edge: { url: `https://${edgeEnv.EDGE_HTTPS_BIND}`, workerPids: () => childPids(haproxyMaster) } }),
    edgeEnv,
    client,
    token,
    auth,
    query,
    webhookSecret,
    jobId: '',
    openFiles: { bench: ownFiles, bridge: bridgeFiles },
    heapReads: [],
    stopSampler: () => undefined,
    startBridge: (env) => startBridge({ ...bridgeOptions, env: { ...untraced, ...env } }),
  };
  ctx.stopSampler = sampleMemory(ctx);
  cleanups.push(() => ctx.stopSampler());

  // The job the reads and long-polls look at: started through the bridge, never run (no worker),
  // so it stays RUNNING.
  const first = await call(`${bridge.url}/v1/jobs/policy-check`, {
    method: 'POST',
    headers: auth,
    body: query,
    timeoutMs: callTimeoutMs,
  });
  if (first.status !== 202)
    throw new Error(`starting a job through the bridge answered ${first.status}: ${first.body}`);
  ctx.jobId = (JSON.parse(first.body) as { jobId: string }).jobId;
  return ctx;
}
