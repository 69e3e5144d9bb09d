// The peer, side by side (bench/README.md, "The peer"). What a platform team would put in front of
// Temporal instead of Gatehouse is Temporal's own HTTP API (the frontend's grpc-gateway, the dev
// server's --http-port), bare or behind HAProxy verifying a JWT (bench/peer/haproxy.cfg: the edge's
// TLS and JWT rules and nothing else). The same workflow (policyCheck on a queue no worker polls,
// with a memo and the search attributes) is started and read four ways, in rounds, in one run:
// - peer: POST/GET /api/v1/namespaces/default/workflows/{id} on Temporal's HTTP port;
// - peer + HAProxy JWT: the same through the peer's HAProxy, with a bearer token;
// - bridge: POST /v1/jobs/policy-check, GET /v1/jobs/{id};
// - edge + bridge: the same through the Gatehouse edge.
// Each run reads the CPU time of every process on any path (the Temporal server, the bridge, the
// edge's HAProxy workers, the peer's HAProxy) and the bench's own, so a path's cost per call is
// the sum over its processes. The baseline is the bare peer, measured in the same rounds.
import { spawn, type ChildProcess } from 'node:child_process';
import type autocannon from 'autocannon';
import { randomUUID } from 'node:crypto';
import { join, resolve } from 'node:path';
import type { EdgeEnv } from '../../src/dev/edge-process.js';
import { freePort } from '../../src/dev/temporal-dev-server.js';
import { call, cannon, until, type Run } from '../load.js';
import { cpuMsOf } from '../proc.js';
import { percentile } from '../stats.js';
import { ms, referenceRow, type TargetRow } from '../targets.js';

export interface PeerContext {
  temporalHttp: string;
  temporalPid: number;
  bridgeUrl: string;
  bridgePid: number;
  /** The Gatehouse edge's URL and its worker processes; undefined when HAProxy did not start. */
  edge?: { url: string; pids: () => number[] };
  edgeEnv: EdgeEnv;
  /** A bearer token the edge, the peer's HAProxy and the bridge accept. */
  token: string;
  /** The policy-check job's input, as JSON. */
  query: string;
  rounds: number;
  starts: number;
  reads: number;
  say(line: string): void;
  note(text: string): void;
}

type Path = 'peer' | 'peerJwt' | 'bridge' | 'edge';
type Process = 'temporal' | 'bridge' | 'edge' | 'peerHaproxy' | 'bench';
type Operation = 'start' | 'read';

const pathLabels: Record<Path, string> = {
  peer: 'peer: Temporal HTTP API',
  peerJwt: 'peer + HAProxy JWT',
  bridge: 'bridge',
  edge: 'edge + bridge',
};
/** The processes each path goes through (the bench's own CPU is shown apart). */
const onPath: Record<Path, Process[]> = {
  peer: ['temporal'],
  peerJwt: ['peerHaproxy', 'temporal'],
  bridge: ['bridge', 'temporal'],
  edge: ['edge', 'bridge', 'temporal'],
};

export interface PathFigures {
  throughput: number;
  p50: number;
  p99: number;
  ok: number;
  answered: number;
  failed: number;
  /** CPU time per answered call of each process, ms. */
  cpuMsPerCall: Record<Process, number>;
  /** Summed over the processes on the path. */
  pathCpuMsPerCall: number;
}

export type PeerResult = Partial<Record<Operation, Partial<Record<Path, PathFigures>>>>;

interface Measured extends Run {
  cpuMs: Record<Process, number>;
}

export async function measurePeer(ctx: PeerContext): Promise<PeerResult> {
  const cleanups: Array<() => Promise<void>> = [];
  try {
    const peerHaproxy = await startPeerHaproxy(ctx);
    cleanups.push(() => stopChild(peerHaproxy.child));
    const auth = { authorization: `Bearer ${ctx.token}`, 'content-type': 'application/json' };
    const input = JSON.parse(ctx.query) as unknown;
    // The same workflow as the bridge starts: its type, queue, a memo and the search attributes.
    const peerBody = JSON.stringify({
      workflowType: { name: 'policyCheck' },
      taskQueue: { name: 'gatehouse-bench-idle' },
      input: [{ input }],
      memo: { fields: { identity: { subject: 'bench-rs' } } },
      searchAttributes: {
        indexedFields: { GatehouseOwner: 'bench-rs', GatehouseRoute: 'policy-check', GatehouseSource: 'api' },
      },
    });
    const workflows = '/api/v1/namespaces/default/workflows';
    const base: Record<Path, string | undefined> = {
      peer: `http://${ctx.temporalHttp}`,
      peerJwt: peerHaproxy.url,
      bridge: ctx.bridgeUrl,
      edge: ctx.edge?.url,
    };
    const paths = (Object.keys(base) as Path[]).filter((path) => base[path] !== undefined);
    const startRequest = (path: Path) =>
      path === 'peer' || path === 'peerJwt'
        ? {
            url: `${base[path]}${workflows}/peer`,
            method: 'POST' as const,
            headers: path === 'peerJwt' ? auth : { 'content-type': 'application/json' },
            body: peerBody,
            expect: [200],
            requests: [
              {
                setupRequest: (request: autocannon.Request) => ({
                  ...request,
                  path: `${workflows}/bench-peer-${randomUUID()}`,
                }),
              },
            ],
          }
        : {
            url: `${base[path]}/v1/jobs/policy-check`,
            method: 'POST' as const,
            headers: auth,
            body: ctx.query,
            expect: [202],
          };

    // One job per path to read, started the path's own way (the bridge reads only jobs it started).
    const readUrl: Partial<Record<Path, string>> = {};
    for (const path of paths) {
      const start = startRequest(path);
      const url =
        path === 'peer' || path === 'peerJwt' ? `${base[path]}${workflows}/bench-peer-${randomUUID()}` : start.url;
      const answer = await call(url, { method: 'POST', headers: start.headers, body: start.body, timeoutMs: 10_000 });
      if (!start.expect.includes(answer.status)) {
        throw new Error(`starting a job (${pathLabels[path]}) answered ${answer.status}: ${answer.body.slice(0, 300)}`);
      }
      readUrl[path] =
        path === 'peer' || path === 'peerJwt'
          ? url
          : `${base[path]}/v1/jobs/${(JSON.parse(answer.body) as { jobId: string }).jobId}`;
    }

    const pids = (): Record<Process, number[]> => ({
      temporal: [ctx.temporalPid],
      bridge: [ctx.bridgePid],
      edge: ctx.edge?.pids() ?? [],
      peerHaproxy: [peerHaproxy.child.pid!],
      bench: [],
    });
    const cpuNow = (): Record<Process, number> => {
      const p = pids();
      const own = process.cpuUsage();
      return {
        temporal: cpuMsOf(p.temporal),
        bridge: cpuMsOf(p.bridge),
        edge: cpuMsOf(p.edge),
        peerHaproxy: cpuMsOf(p.peerHaproxy),
        bench: (own.user + own.system) / 1000,
      };
    };
    const measure = async (operation: Operation, path: Path, round: number): Promise<Measured> => {
      const load = (): Promise<Run> =>
        operation === 'start'
          ? cannon({ ...startRequest(path), amount: ctx.starts, budgetMs: 60_000 })
          : cannon({
              url: readUrl[path]!,
              headers: path === 'peer' ? {} : auth,
              amount: ctx.reads,
              budgetMs: 30_000,
              expect: [200],
            });
      const before = cpuNow();
      const run = await load();
      const after = cpuNow();
      const cpu = Object.fromEntries(
        (Object.keys(before) as Process[]).map((who) => [who, after[who] - before[who]]),
      ) as Record<Process, number>;
      const measured = { ...run, cpuMs: cpu };
      const perCall = (who: Process) => cpu[who] / Math.max(1, run.answered);
      const trouble = run.failed + run.timedOut > 0 ? `  [${run.failed} failed, ${run.timedOut} timed out]` : '';
      ctx.say(
        `${`peer ${operation}s: ${pathLabels[path]} r${round}/${ctx.rounds}`.padEnd(44)} ${`${run.ok}/${run.planned} ok`.padEnd(13)}` +
          `${run.throughput.toFixed(0).padStart(5)}/s  p50 ${ms(run.p50, 1).padStart(9)}  p99 ${ms(run.p99, 1).padStart(9)}  cpu ` +
          onPath[path].map((who) => `${who} ${ms(perCall(who))}`).join(', ') +
          `, bench ${ms(perCall('bench'))}${trouble}`,
      );
      return measured;
    };

    const runs: Record<Operation, Partial<Record<Path, Measured[]>>> = { start: {}, read: {} };
    for (let round = 1; round <= ctx.rounds; round += 1) {
      for (const operation of ['start', 'read'] as const) {
        for (const path of paths) {
          (runs[operation][path] ??= []).push(await measure(operation, path, round));
        }
      }
    }
    const result: PeerResult = {};
    for (const operation of ['start', 'read'] as const) {
      const figures: Partial<Record<Path, PathFigures>> = {};
      for (const path of paths) figures[path] = combine(runs[operation][path] ?? [], path);
      result[operation] = figures;
    }
    return result;
  } finally {
    for (const cleanup of cleanups.reverse()) await cleanup();
  }
}

/** Rounds together: median speed; CPU summed over all calls. */
function combine(runs: Measured[], path: Path): PathFigures {
  const median = (key: 'throughput' | 'p50' | 'p99') =>
    percentile(
      runs.map((r) => r[key]),
      50,
    );
  const answered = runs.reduce((sum, r) => sum + r.answered, 0);
  const perCall = (who: Process) => runs.reduce((sum, r) => sum + r.cpuMs[who], 0) / Math.max(1, answered);
  const cpuMsPerCall = {
    temporal: perCall('temporal'),
    bridge: perCall('bridge'),
    edge: perCall('edge'),
    peerHaproxy: perCall('peerHaproxy'),
    bench: perCall('bench'),
  };
  return {
    throughput: median('throughput'),
    p50: median('p50'),
    p99: median('p99'),
    ok: runs.reduce((sum, r) => sum + r.ok, 0),
    answered,
    failed: runs.reduce((sum, r) => sum + r.failed, 0),
    cpuMsPerCall,
    pathCpuMsPerCall: onPath[path].reduce((sum, who) => sum + cpuMsPerCall[who], 0),
  };
}

/** HAProxy with bench/peer/haproxy.cfg and the edge's keys, on a free loopback port. */
async function startPeerHaproxy(ctx: PeerContext): Promise<{ child: ChildProcess; url: string }> {
  const bind = `127.0.0.1:${await freePort()}`;
  let output = '';
  const child = spawn(
    'haproxy',
    ['-db', '-f', resolve('bench/peer/haproxy.cfg'), '-f', join(ctx.edgeEnv.EDGE_KEYS_DIR, 'keys.cfg')],
    {
      env: {
        PATH: process.env.PATH ?? '',
        PEER_BIND: bind,
        PEER_CERT: ctx.edgeEnv.EDGE_CERT,
        PEER_KEYS_DIR: ctx.edgeEnv.EDGE_KEYS_DIR,
        PEER_JWT_ISSUER: ctx.edgeEnv.EDGE_JWT_ISSUER,
        PEER_JWT_AUDIENCE: ctx.edgeEnv.EDGE_JWT_AUDIENCE,
        PEER_TEMPORAL_HTTP: ctx.temporalHttp,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const keep = (chunk: Buffer) => (output = (output + chunk.toString()).slice(-2_000));
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const url = `https://${bind}`;
  // Up when it answers; a request without a token must get the 401.
  const up = await until(
    async () => child.exitCode !== null || (await call(`${url}/`, { timeoutMs: 2_000 })).status !== 0,
    15_000,
    100,
  );
  const unauthenticated = child.exitCode === null ? (await call(`${url}/`, { timeoutMs: 2_000 })).status : 0;
  if (!up || unauthenticated !== 401) {
    await stopChild(child);
    throw new Error(`the peer's HAProxy did not start (answered ${unauthenticated}): ${output.trim()}`);
  }
  return { child, url };
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise((done) => child.once('exit', done));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await gone;
  clearTimeout(timer);
}

/** The peer's rows for the targets table: each path's speed and CPU per call against the bare peer's. */
export function peerTargets(result: PeerResult): TargetRow[] {
  const rows: TargetRow[] = [];
  for (const operation of ['start', 'read'] as const) {
    const figures = result[operation];
    const peer = figures?.peer;
    if (figures === undefined || peer === undefined) continue;
    for (const path of ['peerJwt', 'bridge', 'edge'] as const) {
      const f = figures[path];
      if (f === undefined) continue;
      rows.push(
        referenceRow(
          `${operation}s, ${pathLabels[path]}: CPU per call on the path / the bare peer's`,
          `${ms(f.pathCpuMsPerCall)} vs ${ms(peer.pathCpuMsPerCall)}`,
          f.pathCpuMsPerCall / peer.pathCpuMsPerCall,
        ),
        referenceRow(
          `${operation}s, ${pathLabels[path]}: throughput / the bare peer's`,
          `${f.throughput.toFixed(0)} vs ${peer.throughput.toFixed(0)}/s, p50 ${ms(f.p50, 1)} vs ${ms(peer.p50, 1)}`,
          f.throughput / peer.throughput,
        ),
      );
    }
  }
  return rows;
}
