// One measured run and the rounds of a variant together. `measure` runs a load, reads the CPU time
// of the bridge, HAProxy's workers and this process around it, keeps the figures in the record and
// prints one line; `combine` takes the median speed of the rounds and their CPU time summed over
// all calls (ticks are 10 ms); `quiet` waits until the processes named are idle.
import type { BenchContext } from './context.js';
import { emptyRun, sleep, until, type Run } from './load.js';
import { cpuMs, cpuMsOf, rssBytes } from './proc.js';
import { percentile } from './stats.js';
import { mb, ms } from './targets.js';

export type Who = 'bridge' | 'haproxy' | 'client';

/** One measured run: what the load saw, plus CPU time of each process and the bridge's RSS after. */
export interface Measured extends Run {
  scenario: string;
  round?: number;
  /** Total CPU milliseconds during the run: the bridge, HAProxy's workers, this process. */
  cpuMs: Record<Who, number>;
  /** The same per answered call. */
  cpuMsPerOp: Record<Who, number>;
  rssAfter: number;
  error?: string;
}

/**
 * Runs `load`, reading each process's CPU time around it; prints one line and keeps the figures.
 * `bridgePid`: the bridge process measured (the traced one for its scenario).
 */
export async function measure(
  ctx: BenchContext,
  scenario: string,
  show: Who[],
  load: () => Promise<Run>,
  round?: number,
  bridgePid = ctx.bridge.pid,
): Promise<Measured> {
  ctx.phase = scenario;
  const haproxy = ctx.edge?.workerPids() ?? [];
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
  ctx.report.record.runs.push(measured);
  ctx.report.save();
  ctx.report.say(describeRun(measured, show, ctx.knobs.rounds));
  return measured;
}

function describeRun(m: Measured, show: Who[], rounds: number): string {
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
export interface Combined {
  throughput: number;
  p50: number;
  p99: number;
  ok: number;
  answered: number;
  failed: number;
  timedOut: number;
  cpuMsPerOp: Record<Who, number>;
}

export function combine(runs: Measured[]): Combined {
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

/** Waits (at most `timeoutMs`) until these processes use under 20% of a core over half a second. */
export async function quiet(timeoutMs: number, pids: number[]): Promise<boolean> {
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
