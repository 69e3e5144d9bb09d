// (1) Job starts: the SDK's workflow.start from this process (the baseline) against POST
// /v1/jobs/policy-check to the bridge, to the second bridge with tracing on, and through HAProxy
// and the bridge, in interleaved rounds. The traced bridge is stopped after this scenario: its
// memory and sockets are not the measured bridge's.
import { randomUUID } from 'node:crypto';
import { ownerKey, routeKey, sourceKey } from '../../src/core/search-attributes.js';
import type { BenchContext } from '../context.js';
import { cannon, sdkLoop } from '../load.js';
import { combine, measure, type Combined, type Measured } from '../measure.js';
import { memoryPoint } from '../memory.js';
import { ms, targetRow, type TargetRow } from '../targets.js';

export interface StartFigures {
  sdk: Combined;
  bridge: Combined;
  traced: Combined;
  haproxy: Combined;
  tracedSpansReceived: number;
  exports: { accepted: number; refused: number };
}

/** The four ways to start a job, each `count` starts within `budgetMs`. */
function startLoads(ctx: BenchContext) {
  const { client } = ctx;
  const sdkStart = (deadline: number) =>
    client.withDeadline(deadline, () =>
      client.workflow.start('policyCheck', {
        workflowId: `bench-${randomUUID()}`,
        taskQueue: 'gatehouse-bench-idle',
        args: [{ input: JSON.parse(ctx.query) }],
        memo: { identity: { subject: 'bench-rs' } },
        typedSearchAttributes: [
          { key: ownerKey, value: 'bench-rs' },
          { key: routeKey, value: 'policy-check' },
          { key: sourceKey, value: 'api' },
        ],
      }),
    );
  const startBody = { method: 'POST' as const, headers: ctx.auth, body: ctx.query, expect: [202] };
  const through = (base: string) => (count: number, budgetMs: number) =>
    cannon({ url: `${base}/v1/jobs/policy-check`, amount: count, budgetMs, ...startBody });
  return {
    sdk: (count: number, budgetMs: number) => sdkLoop(count, budgetMs, sdkStart),
    bridge: through(ctx.bridge.url),
    traced: through(ctx.traced.url),
    edge: (count: number, budgetMs: number) =>
      ctx.edge === undefined
        ? Promise.reject(new Error('HAProxy is not running'))
        : through(ctx.edge.url)(count, budgetMs),
  };
}

export async function warmUpStarts(ctx: BenchContext): Promise<void> {
  const { n } = ctx.knobs;
  const load = startLoads(ctx);
  await load.sdk(n(100), 60_000);
  await load.bridge(n(100), 60_000);
  await load.traced(n(100), 60_000);
  if (ctx.edge !== undefined) await load.edge(n(100), 60_000);
}

export async function measureStarts(ctx: BenchContext): Promise<StartFigures> {
  const { n, rounds } = ctx.knobs;
  const load = startLoads(ctx);
  const starts = {
    sdk: [] as Measured[],
    bridge: [] as Measured[],
    traced: [] as Measured[],
    haproxy: [] as Measured[],
  };
  for (let round = 1; round <= rounds; round += 1) {
    starts.sdk.push(await measure(ctx, 'starts: SDK alone', ['client'], () => load.sdk(n(1000), 60_000), round));
    starts.bridge.push(await measure(ctx, 'starts: bridge', ['bridge'], () => load.bridge(n(1000), 60_000), round));
    starts.traced.push(
      await measure(
        ctx,
        'starts: bridge, tracing on',
        ['bridge'],
        () => load.traced(n(1000), 60_000),
        round,
        ctx.traced.pid,
      ),
    );
    if (ctx.edge !== undefined) {
      starts.haproxy.push(
        await measure(ctx, 'starts: HAProxy + bridge', ['bridge', 'haproxy'], () => load.edge(n(1000), 60_000), round),
      );
    }
  }
  memoryPoint(ctx, 'afterStarts');
  const figures = {
    sdk: combine(starts.sdk),
    bridge: combine(starts.bridge),
    traced: combine(starts.traced),
    haproxy: combine(starts.haproxy),
    tracedSpansReceived: ctx.traced.spansReceived(),
    exports: ctx.traced.exports,
  };
  // The traced bridge has done its part: its memory and sockets are not the measured bridge's.
  await ctx.traced.stop();
  return figures;
}

const cpuPair = (a: number, b: number) => `${ms(a)} vs ${ms(b)}`;

/** What a start costs the bridge: against the SDK client's CPU, and with tracing on against off. */
export function startCostTargets(s: StartFigures): TargetRow[] {
  return [
    targetRow(
      'bridge CPU per job start / SDK client CPU per start',
      cpuPair(s.bridge.cpuMsPerOp.bridge, s.sdk.cpuMsPerOp.client),
      s.bridge.cpuMsPerOp.bridge / s.sdk.cpuMsPerOp.client,
      '≤ 1.5x',
      (x) => x <= 1.5,
    ),
    targetRow(
      'tracing: bridge CPU per start, on / off',
      cpuPair(s.traced.cpuMsPerOp.bridge, s.bridge.cpuMsPerOp.bridge),
      s.traced.cpuMsPerOp.bridge / s.bridge.cpuMsPerOp.bridge,
      '≤ 1.5x',
      (x) => x <= 1.5,
      'spans exported over OTLP/HTTP to a receiver in the bench process',
    ),
  ];
}

/** Starts per second through the bridge, and through HAProxy and the bridge, against the SDK's. */
export function startSpeedTargets(s: StartFigures, haproxyRan: boolean): TargetRow[] {
  return [
    targetRow(
      'starts/s through the bridge / SDK alone',
      `${s.bridge.throughput.toFixed(0)} vs ${s.sdk.throughput.toFixed(0)}/s`,
      s.bridge.throughput / s.sdk.throughput,
      '≥ 0.90x',
      (x) => x >= 0.9,
    ),
    targetRow(
      'starts/s through HAProxy + bridge / SDK alone',
      `${s.haproxy.throughput.toFixed(0)} vs ${s.sdk.throughput.toFixed(0)}/s`,
      haproxyRan ? s.haproxy.throughput / s.sdk.throughput : Number.NaN,
      '≥ 0.85x',
      (x) => x >= 0.85,
    ),
  ];
}
