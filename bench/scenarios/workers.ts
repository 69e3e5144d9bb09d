// The workers' cost (bench/README.md, "Workers"). Each Gatehouse queue worker runs as production
// runs it (src/config/worker-process.ts: compiled, the prebuilt workflow bundles, its Node flags;
// src/config/node-environment.ts: its environment),
// one process at a time, next to the floor: a minimal worker of Temporal's TypeScript SDK with one
// trivial workflow (bench/floor/), run the same way, in the same run. For each:
// - ready to poll: from the process's spawn until the Temporal server lists a poller on its
//   workflow task queue (describeTaskQueue), the median of `rounds` starts on fresh queues;
// - RSS at rest: once it has polled and been quiet (under 2% of a core) for a second, at least
//   10 s after it was ready;
// - under a steady load: `concurrency` clients each start a job and wait for its result, again and
//   again, for the load's duration; the RSS sampled every 250 ms (the highest), the worker's CPU
//   time per job, the jobs' latency (start to result).
// Variants: the floor; the policy queue's worker (policy-check jobs: Cedar); the same without the
// Node flags and environment (what they buy); the CI queue's worker with a PostgreSQL ledger (the chart's) and
// with the embedded PGlite ledger (the shipped config's, as `npm run dev` and Compose run it), both
// running CI jobs of one `true` step in the sandbox, cloned from a Git server on loopback.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { chmodSync, createWriteStream, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { Client } from '@temporalio/client';
import { bundleWorkflowCode } from '@temporalio/worker';
import { parse, stringify } from 'yaml';
import { nodeEnvironment } from '../../src/config/node-environment.js';
import { workerCommand, workerNodeFlags } from '../../src/config/worker-process.js';
import { startPostgres, type Postgres } from '../../src/dev/postgres.js';
import { startGitServer, type GitServer } from '../../test/helpers/git-server.js';
import { sleep, until } from '../load.js';
import { cpuMs, peakRssBytes, rssBytes } from '../proc.js';
import { percentile } from '../stats.js';
import { mb, ms, referenceRow, targetRow, type TargetRow } from '../targets.js';

export interface WorkersContext {
  client: Client;
  temporalAddress: string;
  /** Scratch directory of the run (removed at its end). */
  dir: string;
  /** Starts per variant for the time to poll. */
  rounds: number;
  /** Load duration, ms. */
  loadMs: number;
  say(line: string): void;
  note(text: string): void;
}

export interface LoadFigures {
  concurrency: number;
  seconds: number;
  completed: number;
  failed: number;
  /** What the first failed job said. */
  firstError?: string;
  /** How the worker ended, when it ended during the load (and where its output is). */
  workerExit?: string;
  throughput: number;
  p50: number;
  p99: number;
  cpuMsPerJob: number;
  rssMax: number;
}

export interface WorkerFigures {
  variant: string;
  readyMs: number[];
  readyMedianMs: number;
  rssAtRest: number;
  load?: LoadFigures;
  rssAfterLoad: number;
  /** VmHWM when it was stopped. */
  peakRss: number;
  error?: string;
}

export type VariantKey = 'floor' | 'policy' | 'policyNodeDefaults' | 'ciPostgres' | 'ciEmbedded';

export interface WorkersResult {
  figures: Partial<Record<VariantKey, WorkerFigures>>;
  /** The first start of the CI worker on a new embedded ledger (PGlite's initdb, in a child process). */
  firstEmbeddedStartMs?: number;
}

interface Job {
  type: string;
  args: unknown[];
  memo?: Record<string, unknown>;
}

interface Variant {
  key: VariantKey;
  label: string;
  /** Node's arguments and the environment for a process polling `queue`. */
  process(queue: string): { args: string[]; env: Record<string, string> };
  job(jobId: string): Job;
  concurrency: number;
}

const targets = { restBytes: 200 * 1_048_576, loadBytes: 300 * 1_048_576, readyMs: 3_000 };

const identity = (subject: string) => ({
  method: 'jwt',
  principal: `jwt:https://bench.invalid#${subject}`,
  issuer: 'https://bench.invalid',
  subject,
  groups: ['maintainers'],
  roles: [],
  scopes: [],
});
const requestInfo = (route: string) => ({
  requestId: randomUUID(),
  route,
  receivedAt: new Date().toISOString(),
  clientAddress: '127.0.0.1',
  bodySha256: '0'.repeat(64),
});

export async function measureWorkers(ctx: WorkersContext): Promise<WorkersResult> {
  const { temporalAddress, dir, say, note } = ctx;
  const scratch = join(dir, 'workers');
  mkdirSync(scratch, { recursive: true });
  // Each CI job's steps run under a uid of their own, which must reach its checkout under the
  // scratch directory: the run's directory is mkdtemp's 0700 (the cluster test bed does the same).
  chmodSync(dir, 0o755);
  chmodSync(scratch, 0o755);
  const cleanups: Array<() => Promise<void> | void> = [];
  const result: WorkersResult = { figures: {} };
  try {
    const floorBundle = join(scratch, 'floor-workflows.js');
    const bundle = await bundleWorkflowCode({
      workflowsPath: resolve('bench/floor/workflows.mjs'),
      logger: { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error: (m: string) => note(m) },
    });
    writeFileSync(floorBundle, bundle.code);
    const git = await startGitServer({ README: 'bench' });
    cleanups.push(() => git.close());
    let postgres: Postgres | undefined;
    try {
      postgres = await startPostgres();
      cleanups.push(() => postgres?.stop());
    } catch (error) {
      note(`workers: the CI worker with a PostgreSQL ledger is skipped: ${(error as Error).message}`);
    }
    const ledgerDir = join(scratch, 'ledger');
    const gatehouse = (queue: string, role: 'policy' | 'ci', ledger: 'postgres' | 'embedded', flags: boolean) => {
      const file = writeWorkerConfig({ scratch, queue, role, ledger, ledgerDir, git });
      const [, ...args] = workerCommand(queue);
      return {
        args: flags ? args : args.filter((arg) => !(workerNodeFlags as readonly string[]).includes(arg)),
        env: {
          ...(flags ? nodeEnvironment : {}),
          PATH: process.env.PATH ?? '',
          HOME: process.env.HOME ?? '/',
          GATEHOUSE_CONFIG: file,
          TEMPORAL_ADDRESS: temporalAddress,
          ...(ledger === 'postgres' && postgres !== undefined ? { GATEHOUSE_LEDGER_URL: postgres.url } : {}),
        },
      };
    };
    const policyJob = (jobId: string): Job => {
      const who = identity(`bench-${jobId.slice(-8)}`);
      const input = {
        action: { type: 'Gatehouse::Action', id: 'deploy' },
        resource: { type: 'Gatehouse::Repository', id: 'acme/api' },
      };
      return {
        type: 'policyCheck',
        args: [{ jobId, route: 'policy-check', input, identity: who }],
        memo: { identity: who, request: requestInfo('policy-check') },
      };
    };
    const ciJob = (jobId: string): Job => {
      const who = identity(`bench-${jobId.slice(-8)}`);
      const input = { provider: 'github', repository: { fullName: 'bench/app' }, after: git.sha };
      return {
        type: 'ciPipeline',
        args: [{ jobId, route: 'ci', input, identity: who }],
        memo: { identity: who, request: requestInfo('ci') },
      };
    };
    const variants: Variant[] = [
      {
        key: 'floor',
        label: 'floor: minimal SDK worker',
        process: (queue) => ({
          args: [...workerNodeFlags, 'bench/floor/worker.mjs', temporalAddress, queue, floorBundle],
          env: { ...nodeEnvironment, PATH: process.env.PATH ?? '' },
        }),
        job: () => ({ type: 'trivial', args: [{ input: 'bench' }] }),
        concurrency: 16,
      },
      {
        key: 'policy',
        label: 'policy queue worker',
        process: (queue) => gatehouse(queue, 'policy', 'embedded', true),
        job: policyJob,
        concurrency: 16,
      },
      {
        key: 'policyNodeDefaults',
        label: 'policy queue worker, Node defaults',
        process: (queue) => gatehouse(queue, 'policy', 'embedded', false),
        job: policyJob,
        concurrency: 16,
      },
      ...(postgres === undefined
        ? []
        : [
            {
              key: 'ciPostgres',
              label: 'CI queue worker, PostgreSQL ledger',
              process: (queue: string) => gatehouse(queue, 'ci', 'postgres', true),
              job: ciJob,
              concurrency: 4,
            } satisfies Variant,
          ]),
      {
        key: 'ciEmbedded',
        label: 'CI queue worker, embedded ledger',
        process: (queue) => gatehouse(queue, 'ci', 'embedded', true),
        job: ciJob,
        concurrency: 4,
      },
    ];

    // The embedded ledger's first start creates its data directory (initdb); every measured start
    // after it opens the existing one, as a restarted worker does.
    try {
      const first = await startWorker(
        ctx,
        variants.find((v) => v.key === 'ciEmbedded')!,
      );
      result.firstEmbeddedStartMs = first.readyMs;
      await stopWorker(first.child);
      say(`  workers: first start on a new embedded ledger ready to poll in ${ms(first.readyMs, 0)}`);
    } catch (error) {
      note(`workers: the first start on a new embedded ledger failed: ${(error as Error).message}`);
    }

    for (const variant of variants) {
      const figures = await measureVariant(ctx, variant);
      result.figures[variant.key] = figures;
      say(describeFigures(figures));
    }
    // More starts for the time to poll, in rounds across the variants.
    for (let round = 2; round <= ctx.rounds; round += 1) {
      for (const variant of variants) {
        const figures = result.figures[variant.key];
        if (figures === undefined || figures.error !== undefined) continue;
        const started = await startWorker(ctx, variant);
        await stopWorker(started.child);
        figures.readyMs.push(started.readyMs);
        figures.readyMedianMs = percentile(figures.readyMs, 50);
      }
    }
    if (ctx.rounds > 1) {
      say(
        `  workers: ready to poll, median of ${ctx.rounds} starts: ${Object.values(result.figures)
          .map((f) => `${f.variant} ${ms(f.readyMedianMs, 0)}`)
          .join(', ')}`,
      );
    }
  } finally {
    for (const cleanup of cleanups.reverse()) await cleanup();
  }
  return result;
}

/** The parts of config/gatehouse.yaml the bench changes. */
interface ShippedConfig {
  taskQueues: string[];
  routes: Record<string, { taskQueue: string }>;
  policy: Record<'policies' | 'entities' | 'schema', string>;
  ci: Record<string, unknown>;
  ledger: unknown;
}

/** The shipped config with the bench's queue, paths and Git server, for one worker process. */
function writeWorkerConfig(options: {
  scratch: string;
  queue: string;
  role: 'policy' | 'ci';
  ledger: 'postgres' | 'embedded';
  ledgerDir: string;
  git: GitServer;
}): string {
  const shipped = resolve('config/gatehouse.yaml');
  const config = parse(readFileSync(shipped, 'utf8')) as ShippedConfig;
  const other = `${options.queue}-other`;
  config.taskQueues = [options.queue, other];
  const ciRoutes = new Set(['ci', 'billing-usage']);
  for (const [name, route] of Object.entries(config.routes)) {
    route.taskQueue = ciRoutes.has(name) === (options.role === 'ci') ? options.queue : other;
  }
  for (const key of ['policies', 'entities', 'schema'] as const) {
    config.policy[key] = resolve(dirname(shipped), config.policy[key]);
  }
  config.ci.scratchDir = join(options.scratch, 'ci');
  config.ci.cloneProtocols = ['http'];
  config.ci.webUrls = { github: `${options.git.url}/github` };
  // The checkout runs in the sandbox, whose egress refuses loopback unless its address is allowed.
  const sandbox = config.ci.sandbox as { egress?: { allow?: string[] } } | undefined;
  config.ci.sandbox = { ...sandbox, egress: { ...sandbox?.egress, allow: [new URL(options.git.url).host] } };
  config.ci.pipelines = [
    { repositories: ['bench/*'], runner: 'steps', steps: [{ name: 'test', run: 'true', timeout: '1m' }] },
  ];
  config.ledger =
    options.ledger === 'postgres' ? { url: { env: 'GATEHOUSE_LEDGER_URL' } } : { dataDir: options.ledgerDir };
  const file = join(options.scratch, `${options.queue}.yaml`);
  writeFileSync(file, stringify(config));
  return file;
}

interface Started {
  child: ChildProcess;
  pid: number;
  queue: string;
  readyMs: number;
  /** The worker's stdout and stderr, kept after the run. */
  logFile: string;
}

/** Where each worker's output goes: kept after the run, unlike its scratch directory. */
const workerLogDir = resolve('.data/bench-logs/workers');

/** Spawns the variant on a fresh queue; resolves once Temporal lists its poller. */
async function startWorker(ctx: WorkersContext, variant: Variant): Promise<Started> {
  const queue = `bench-${variant.key.toLowerCase()}-${randomUUID().slice(0, 8)}`;
  const { args, env } = variant.process(queue);
  let stderr = '';
  mkdirSync(workerLogDir, { recursive: true });
  const logFile = join(workerLogDir, `${queue}.log`);
  const log = createWriteStream(logFile);
  const began = performance.now();
  const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.pipe(log, { end: false });
  child.stderr!.on('data', (chunk: Buffer) => {
    log.write(chunk);
    stderr = (stderr + chunk.toString()).slice(-2_000);
  });
  child.once('exit', () => log.end());
  const polled = async () => {
    const answer = await ctx.client.workflowService.describeTaskQueue({
      namespace: 'default',
      taskQueue: { name: queue },
      taskQueueType: 1, // TASK_QUEUE_TYPE_WORKFLOW
    });
    return (answer.pollers?.length ?? 0) > 0;
  };
  let readyMs = Number.NaN;
  const ready = await until(
    async () => {
      if (child.exitCode !== null) return true;
      if (!(await polled().catch(() => false))) return false;
      readyMs = performance.now() - began;
      return true;
    },
    90_000,
    25,
  );
  if (!ready || child.exitCode !== null) {
    await stopWorker(child);
    throw new Error(
      `${variant.label} ${child.exitCode === null ? 'did not poll within 90 s' : `exited (${child.exitCode})`}: ${stderr.trim().slice(-500)}`,
    );
  }
  return { child, pid: child.pid!, queue, readyMs, logFile };
}

async function stopWorker(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise((done) => child.once('exit', done));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 40_000);
  await gone;
  clearTimeout(timer);
}

/** Waits at least `minMs`, then until the process used under 20 ms of CPU in a second (at most 30 s more). */
async function settle(pid: number, minMs: number): Promise<void> {
  await sleep(minMs);
  let last = cpuMs(pid);
  await until(
    async () => {
      await sleep(1_000);
      const now = cpuMs(pid);
      const quiet = now - last < 20;
      last = now;
      return quiet;
    },
    30_000,
    0,
  );
}

async function measureVariant(ctx: WorkersContext, variant: Variant): Promise<WorkerFigures> {
  const figures: WorkerFigures = {
    variant: variant.label,
    readyMs: [],
    readyMedianMs: Number.NaN,
    rssAtRest: Number.NaN,
    rssAfterLoad: Number.NaN,
    peakRss: Number.NaN,
  };
  let started: Started | undefined;
  try {
    started = await startWorker(ctx, variant);
    figures.readyMs.push(started.readyMs);
    figures.readyMedianMs = started.readyMs;
    await settle(started.pid, 10_000);
    figures.rssAtRest = rssBytes(started.pid);
    figures.load = await steadyLoad(ctx, variant, started);
    await settle(started.pid, 2_000);
    figures.rssAfterLoad = rssBytes(started.pid);
    figures.peakRss = peakRssBytes(started.pid);
  } catch (error) {
    figures.error = (error as Error).message;
    ctx.note(`workers: ${variant.label} not measured: ${figures.error}`);
  } finally {
    if (started !== undefined) await stopWorker(started.child);
  }
  return figures;
}

/** `concurrency` clients, each starting a job and waiting for its result, for the load's duration. */
async function steadyLoad(ctx: WorkersContext, variant: Variant, worker: Started): Promise<LoadFigures> {
  const latencies: number[] = [];
  let failed = 0;
  let firstError: string | undefined;
  let rssMax = rssBytes(worker.pid);
  const sampler = setInterval(() => (rssMax = Math.max(rssMax, rssBytes(worker.pid))), 250);
  const cpuBefore = cpuMs(worker.pid);
  const began = performance.now();
  const stopAt = Date.now() + ctx.loadMs;
  // A worker that ends during the load ends it: its jobs in flight would only wait out their deadline.
  let workerExit: string | undefined;
  const exited = new Promise<never>((_, reject) =>
    worker.child.once('exit', (code, signal) => {
      workerExit = `the worker ended during the load (${signal ?? `exit ${code}`}); its output: ${worker.logFile}`;
      reject(new Error(workerExit));
    }),
  );
  exited.catch(() => {});
  try {
    await Promise.all(
      Array.from({ length: variant.concurrency }, async () => {
        while (Date.now() < stopAt && workerExit === undefined) {
          const jobId = `bench-${variant.key}-${randomUUID()}`;
          const job = variant.job(jobId);
          const t = performance.now();
          try {
            await Promise.race([
              ctx.client.withDeadline(Date.now() + 120_000, () =>
                ctx.client.workflow.execute(job.type, {
                  workflowId: jobId,
                  taskQueue: worker.queue,
                  args: job.args,
                  ...(job.memo === undefined ? {} : { memo: job.memo }),
                }),
              ),
              exited,
            ]);
            latencies.push(performance.now() - t);
          } catch (error) {
            failed += 1;
            firstError ??= causes(error).slice(0, 600);
            await sleep(250);
          }
        }
      }),
    );
  } finally {
    clearInterval(sampler);
  }
  const seconds = (performance.now() - began) / 1000;
  const cpu = cpuMs(worker.pid) - cpuBefore;
  return {
    concurrency: variant.concurrency,
    seconds,
    completed: latencies.length,
    failed,
    ...(firstError === undefined ? {} : { firstError }),
    ...(workerExit === undefined ? {} : { workerExit }),
    throughput: latencies.length / seconds,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    cpuMsPerJob: latencies.length > 0 ? cpu / latencies.length : Number.NaN,
    rssMax: Math.max(rssMax, rssBytes(worker.pid)),
  };
}

/** An error and its causes, one after the other (a workflow's failure says little on its own). */
function causes(error: unknown): string {
  const chain: string[] = [];
  for (
    let e: unknown = error;
    e !== undefined && e !== null && chain.length < 5;
    e = (e as { cause?: unknown }).cause
  ) {
    chain.push(e instanceof Error ? `${e.name}: ${e.message}` : String(e));
  }
  return chain.join(' <- ');
}

function describeFigures(f: WorkerFigures): string {
  if (f.error !== undefined) return `  workers: ${f.variant}: not measured (${f.error})`;
  const load = f.load;
  return (
    `  workers: ${f.variant.padEnd(36)} ready ${ms(f.readyMedianMs, 0).padStart(8)}  rest ${mb(f.rssAtRest).padStart(9)}  ` +
    (load === undefined
      ? ''
      : `load ${load.completed} jobs (${load.failed} failed) ${load.throughput.toFixed(1)}/s at ${load.concurrency}, ` +
        `p50 ${ms(load.p50, 0)} p99 ${ms(load.p99, 0)}, cpu ${ms(load.cpuMsPerJob)}/job, max ${mb(load.rssMax)}; `) +
    `after ${mb(f.rssAfterLoad)}, VmHWM ${mb(f.peakRss)}` +
    (load?.firstError === undefined ? '' : `; first failure: ${load.firstError}`) +
    (load?.workerExit === undefined ? '' : `; ${load.workerExit}`)
  );
}

/** The workers' rows for the targets table. */
export function workerTargets(result: WorkersResult): TargetRow[] {
  const { figures } = result;
  const floor = figures.floor;
  const rows: TargetRow[] = [];
  const queues: Array<[VariantKey, string]> = [
    ['policy', 'policy queue worker'],
    ['ciPostgres', 'CI queue worker, PostgreSQL ledger'],
    ['ciEmbedded', 'CI queue worker, embedded ledger'],
  ];
  const vsFloor = (figure: string, floorFigure: string) => `${figure} (floor ${floorFigure})`;
  for (const [key, label] of queues) {
    const f = figures[key];
    if (f === undefined) continue;
    rows.push(
      targetRow(
        `${label}: RSS at rest`,
        vsFloor(mb(f.rssAtRest), mb(floor?.rssAtRest ?? Number.NaN)),
        f.rssAtRest / targets.restBytes,
        '≤ 200 MB',
        (x) => x <= 1,
      ),
      targetRow(
        `${label}: RSS under a steady load (highest)`,
        vsFloor(mb(f.load?.rssMax ?? Number.NaN), mb(floor?.load?.rssMax ?? Number.NaN)),
        // No job completed: the load was not measured, whatever the RSS.
        (f.load !== undefined && f.load.completed > 0 ? f.load.rssMax : Number.NaN) / targets.loadBytes,
        '≤ 300 MB',
        (x) => x <= 1,
        f.load === undefined ? undefined : `${f.load.completed} jobs at ${f.load.concurrency} at once`,
      ),
      targetRow(
        `${label}: ready to poll, from process start`,
        vsFloor(ms(f.readyMedianMs, 0), ms(floor?.readyMedianMs ?? Number.NaN, 0)),
        f.readyMedianMs / targets.readyMs,
        '≤ 3 s',
        (x) => x <= 1,
        `median of ${f.readyMs.length} starts`,
      ),
      referenceRow(
        `${label}: ready to poll / the floor's`,
        `${ms(f.readyMedianMs, 0)} vs ${ms(floor?.readyMedianMs ?? Number.NaN, 0)}`,
        f.readyMedianMs / (floor?.readyMedianMs ?? Number.NaN),
      ),
    );
  }
  const policy = figures.policy;
  const defaults = figures.policyNodeDefaults;
  if (policy !== undefined && defaults !== undefined) {
    rows.push(
      referenceRow(
        'policy queue worker, RSS at rest: its Node flags and environment / Node defaults',
        `${mb(policy.rssAtRest)} vs ${mb(defaults.rssAtRest)}`,
        policy.rssAtRest / defaults.rssAtRest,
      ),
      referenceRow(
        'policy queue worker, CPU per job: its Node flags and environment / Node defaults',
        `${ms(policy.load?.cpuMsPerJob ?? Number.NaN)} vs ${ms(defaults.load?.cpuMsPerJob ?? Number.NaN)}`,
        (policy.load?.cpuMsPerJob ?? Number.NaN) / (defaults.load?.cpuMsPerJob ?? Number.NaN),
      ),
    );
  }
  if (policy !== undefined && floor !== undefined) {
    rows.push(
      referenceRow(
        'policy queue worker CPU per job / floor CPU per job',
        `${ms(policy.load?.cpuMsPerJob ?? Number.NaN)} vs ${ms(floor.load?.cpuMsPerJob ?? Number.NaN)}`,
        (policy.load?.cpuMsPerJob ?? Number.NaN) / (floor.load?.cpuMsPerJob ?? Number.NaN),
      ),
    );
  }
  if (result.firstEmbeddedStartMs !== undefined) {
    rows.push(
      referenceRow(
        'CI queue worker, first start on a new embedded ledger (initdb)',
        ms(result.firstEmbeddedStartMs, 0),
        result.firstEmbeddedStartMs / targets.readyMs,
      ),
    );
  }
  return rows;
}
