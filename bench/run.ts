// The benchmark suite: what the bridge and the edge cost over Temporal itself, in CPU time and
// memory as well as speed. It measures and reports against the targets in bench/README.md; it never
// fails anything. One run starts its own Temporal dev server, a dev issuer, one bridge *process*
// (compiled JS, so its CPU time and resident memory are its own) and HAProxy in front of it
// (bench/context.ts), then runs each scenario of bench/scenarios/ against its baseline, interleaved
// in rounds so drift hits all alike. Every call has a timeout and every scenario a budget: a
// scenario that cannot finish says what it saw and the run goes on. One line per scenario as it
// goes, then the targets table, and the whole record in bench/results/<time>.json (bench/record.ts,
// rewritten after each scenario).
//   npm run bench   knobs (bench/knobs.ts): BENCH_SCALE=0.1 (counts ×0.1, a quick look),
//   BENCH_ROUNDS=1 (one round instead of 3), BENCH_IDLE_POLLS=10000 (idle long-polls whatever the
//   scale), BENCH_STREAMS=1000 (job event streams, whatever the scale),
//   BENCH_BRIDGE_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" (profile the bridge),
//   BENCH_ONLY=workers,peer,people (only these scenario modules, none of the bridge's own scenarios).
// Tracing's cost: a second bridge process with tracing on, exporting to an OTLP receiver in this
// process, runs the start scenario in the same rounds; its CPU per start against the first one's.
// The scenario modules (bench/modules.ts: the workers against a minimal SDK worker, the peer:
// Temporal's HTTP API bare and behind HAProxy) run after the rest, or alone with BENCH_ONLY.
import { startBench } from './context.js';
import { readKnobs } from './knobs.js';
import { memoryPoint, memoryTargets, measureMemoryAtEnd } from './memory.js';
import { moduleNames, runModules } from './modules.js';
import { openReport } from './record.js';
import { authTargets, measureAuth, warmUpAuth } from './scenarios/auth.js';
import { deliveryLogTargets, measureDeliveryLog } from './scenarios/delivery-log.js';
import { idlePollTargets, measureIdlePolls } from './scenarios/idle-polls.js';
import { measureLongPolls } from './scenarios/long-polls.js';
import { measurePush20mb, push20mbTargets } from './scenarios/push-20mb.js';
import { measureReads, readTargets, warmUpReads } from './scenarios/reads.js';
import { measureStarts, startCostTargets, startSpeedTargets, warmUpStarts } from './scenarios/starts.js';
import { measureStreams, streamTargets } from './scenarios/streams.js';
import { measureWebhooks, warmUpWebhooks, webhookTargets } from './scenarios/webhooks.js';
import { formatTargets, mb, type TargetRow } from './targets.js';

const knobs = readKnobs(process.env, moduleNames);
const report = openReport(new Date());
const { record, say } = report;
const cleanups: Array<() => Promise<void> | void> = [];

async function main(): Promise<void> {
  const ctx = await startBench(knobs, report, cleanups);
  if (knobs.only.length > 0) {
    ctx.stopSampler();
    finish(await runModules(ctx));
    return;
  }

  ctx.phase = 'warm-up';
  const warmStarted = performance.now();
  await warmUpStarts(ctx);
  await warmUpReads(ctx);
  await warmUpAuth(ctx);
  await warmUpWebhooks(ctx);
  say(`warm-up done in ${((performance.now() - warmStarted) / 1000).toFixed(1)} s`);
  const atRest = memoryPoint(ctx, 'atRest');
  say(`bridge RSS at rest ${mb(atRest)}`);

  // The scenarios in order (bench/README.md, Scenarios); each leaves its figures in the record.
  const starts = (record.scenarios.starts = await measureStarts(ctx));
  const reads = (record.scenarios.reads = await measureReads(ctx));
  const auth = (record.scenarios.auth = await measureAuth(ctx));
  const webhooks = await measureWebhooks(ctx);
  record.scenarios.longPoll = await measureLongPolls(ctx);
  const streams = (record.scenarios.jobEventStreams = await measureStreams(ctx));
  const idle = await measureIdlePolls(ctx);
  record.scenarios.idleLongPolls = idle.figures;
  const push20mb = await measurePush20mb(ctx, idle.releasedAt);
  record.scenarios.webhooks = { '1KB': webhooks.hook1k, '1KBIgnored': webhooks.hook1kIgnored, '20MB': push20mb };
  const deliveryLog = (record.scenarios.deliveryLog = await measureDeliveryLog(ctx));
  await measureMemoryAtEnd(ctx);
  const moduleRows = await runModules(ctx);

  finish([
    ...startCostTargets(starts),
    ...readTargets(reads),
    ...startSpeedTargets(starts, ctx.edge !== undefined),
    ...authTargets(auth),
    ...push20mbTargets(push20mb),
    ...webhookTargets(webhooks, starts),
    ...deliveryLogTargets(deliveryLog, webhooks),
    ...memoryTargets(record.memory, atRest),
    ...idlePollTargets(idle.figures),
    ...streamTargets(streams),
    ...moduleRows,
  ]);
}

/** Records the targets, prints the table and where the record is. */
function finish(rows: TargetRow[]): void {
  record.targets = rows;
  record.complete = true;
  report.save();
  for (const line of formatTargets(rows)) say(line);
  if (knobs.scale !== 1) say(`(BENCH_SCALE=${knobs.scale}: counts are scaled down, the figures are indicative)`);
  say(`\nwritten ${report.file}`);
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
  report.save();
} finally {
  await cleanUp();
}
