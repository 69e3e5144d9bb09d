// (7) A signed 20 MB GitHub push through HAProxy, one at a time: time to the 202 and RSS after. It
// runs after the idle long-polls' 30 s waits have all ended and the bridge and Temporal are quiet
// again, so that what it leaves behind does not blur the long-polls' memory figures. Skipped
// without HAProxy.
import type { BenchContext } from '../context.js';
import { signedPush } from '../github-push.js';
import { call, emptyRun, sleep } from '../load.js';
import { measure, quiet, type Measured } from '../measure.js';
import { memoryPoint } from '../memory.js';
import { percentile } from '../stats.js';
import { ms, targetRow, type TargetRow } from '../targets.js';

/** `idleReleased`: when the idle long-polls' clients left (0: they never did). */
export async function measurePush20mb(ctx: BenchContext, idleReleased: number): Promise<Measured | undefined> {
  const { say } = ctx.report;
  const { edge } = ctx;
  const n = ctx.knobs.n;
  ctx.phase = 'after the idle long-polls';
  const left = idleReleased + 32_000 - Date.now();
  if (idleReleased > 0 && left > 0) {
    say(`waiting ${(left / 1000).toFixed(0)} s for the idle long-polls' 30 s waits to end`);
    await sleep(left);
  }
  await quiet(20_000, [ctx.bridge.pid, ctx.temporal.process.pid!]);
  memoryPoint(ctx, 'idleWaitsOver');
  let hook20m: Measured | undefined;
  if (edge !== undefined) {
    // One at a time, each body built and signed before its clock starts.
    const count = n(12, 3);
    const times: number[] = []; // to the 202s only
    let refusal: string | undefined;
    hook20m = await measure(ctx, 'webhook 20 MB via HAProxy', ['bridge', 'haproxy'], async () => {
      const began = performance.now();
      const stopAt = Date.now() + 120_000;
      const run = emptyRun(count);
      for (let i = 0; i < count && Date.now() < stopAt; i += 1) {
        const { body, headers } = signedPush(ctx.webhookSecret, 20 * 1_048_576);
        const bytes = Buffer.from(body);
        const answer = await call(`${edge.url}/v1/webhooks/github`, {
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
    memoryPoint(ctx, 'afterWebhook20MB');
  }
  return hook20m;
}

export function push20mbTargets(hook20m: Measured | undefined): TargetRow[] {
  return [
    targetRow(
      'signed 20 MB webhook to its 202, p50',
      hook20m === undefined ? 'n/a' : ms(hook20m.p50, 0),
      (hook20m?.p50 ?? Number.NaN) / 200,
      '< 200 ms',
      (x) => x < 1,
    ),
  ];
}
