// (2) Job reads: GET /v1/jobs/{id} of the running job through the bridge against the SDK's
// describe() of the same workflow, in interleaved rounds.
import type { BenchContext } from '../context.js';
import { cannon, sdkLoop } from '../load.js';
import { combine, measure, type Combined, type Measured } from '../measure.js';
import { memoryPoint } from '../memory.js';
import { ms, targetRow, type TargetRow } from '../targets.js';

export interface ReadFigures {
  describe: Combined;
  bridge: Combined;
}

function readLoads(ctx: BenchContext) {
  const handle = ctx.client.workflow.getHandle(ctx.jobId);
  const describe = (deadline: number) => ctx.client.withDeadline(deadline, () => handle.describe());
  return {
    describe: (count: number, budgetMs: number) => sdkLoop(count, budgetMs, describe),
    bridge: (count: number, budgetMs: number) =>
      cannon({
        url: `${ctx.bridge.url}/v1/jobs/${ctx.jobId}`,
        amount: count,
        budgetMs,
        headers: ctx.auth,
        expect: [200],
      }),
  };
}

export async function warmUpReads(ctx: BenchContext): Promise<void> {
  const load = readLoads(ctx);
  await load.describe(ctx.knobs.n(100), 30_000);
  await load.bridge(ctx.knobs.n(100), 30_000);
}

export async function measureReads(ctx: BenchContext): Promise<ReadFigures> {
  const { n, rounds } = ctx.knobs;
  const load = readLoads(ctx);
  const reads = { describe: [] as Measured[], bridge: [] as Measured[] };
  for (let round = 1; round <= rounds; round += 1) {
    reads.describe.push(
      await measure(ctx, 'reads: describe()', ['client'], () => load.describe(n(1500), 30_000), round),
    );
    reads.bridge.push(await measure(ctx, 'reads: bridge', ['bridge'], () => load.bridge(n(1500), 30_000), round));
  }
  memoryPoint(ctx, 'afterReads');
  return { describe: combine(reads.describe), bridge: combine(reads.bridge) };
}

export function readTargets(r: ReadFigures): TargetRow[] {
  return [
    targetRow(
      'bridge CPU per job read / describe() client CPU',
      `${ms(r.bridge.cpuMsPerOp.bridge)} vs ${ms(r.describe.cpuMsPerOp.client)}`,
      r.bridge.cpuMsPerOp.bridge / r.describe.cpuMsPerOp.client,
      '≤ 2x',
      (x) => x <= 2,
    ),
  ];
}
