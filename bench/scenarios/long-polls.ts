// (5) Long-polls: 200 waiters (scaled) with ?wait=8 on the running job, each on its own
// connection: how many answered and when, the bridge's open files and RSS while they wait.
import type { BenchContext } from '../context.js';
import { call, emptyRun, sleep } from '../load.js';
import { measure } from '../measure.js';
import { memoryPoint } from '../memory.js';
import { openFds, rssBytes } from '../proc.js';
import { percentile } from '../stats.js';
import { signedMb } from '../targets.js';

export async function measureLongPolls(ctx: BenchContext): Promise<Record<string, unknown>> {
  const { say } = ctx.report;
  const bridgePid = ctx.bridge.pid;
  const waiters = ctx.knobs.n(200);
  let longPoll: Record<string, unknown> = {};
  await measure(ctx, 'long-poll: wait=8', ['bridge'], async () => {
    const before = rssBytes(bridgePid);
    const began = performance.now();
    const answers = Array.from({ length: waiters }, () =>
      call(`${ctx.bridge.url}/v1/jobs/${ctx.jobId}?wait=8`, {
        headers: ctx.auth,
        timeoutMs: 8_000 + 15_000,
        agent: false,
      }),
    );
    await sleep(4_000);
    const during = rssBytes(bridgePid);
    const fds = openFds(bridgePid);
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
  memoryPoint(ctx, 'afterLongPoll');
  return longPoll;
}
