// The bridge's memory: its RSS at named points (after start-up and warm-up, after every scenario,
// at the end), V8's heap next to each from the bridge's own metrics, a 250 ms sample for the
// highest point and when it was, the peak (VmHWM), and at the end a heap snapshot (SIGUSR2)
// summarized by bench/heap-summary.ts. Its two target rows: RSS at rest and at every point.
import { readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { BenchContext } from './context.js';
import { formatHeapSummary, summarizeHeapSnapshot, type HeapSummary } from './heap-summary.js';
import { call, until } from './load.js';
import { quiet } from './measure.js';
import { peakRssBytes, rssBytes } from './proc.js';
import type { BenchRecord } from './record.js';
import { callTimeoutMs } from './knobs.js';
import { mb, targetRow, type TargetRow } from './targets.js';

/** The bridge's RSS now, kept under `name`; its heap is read alongside (awaited at the end). */
export function memoryPoint(ctx: BenchContext, name: string): number {
  const rss = rssBytes(ctx.bridge.pid);
  ctx.report.record.memory.points[name] = rss;
  ctx.heapReads.push(heapPoint(ctx, name).catch(() => undefined));
  return rss;
}

/** The bridge's V8 heap (used and total) from its metrics, next to its RSS: what holds the memory. */
export async function heapPoint(ctx: BenchContext, name: string): Promise<void> {
  const answer = await call(`http://${ctx.bridge.metricsAddress}/metrics`, { timeoutMs: callTimeoutMs });
  const read = (metric: string) => Number(new RegExp(`^gatehouse_${metric} (\\S+)$`, 'm').exec(answer.body)?.[1]);
  ctx.report.record.memory.heap[name] = {
    used: read('nodejs_heap_size_used_bytes'),
    total: read('nodejs_heap_size_total_bytes'),
    external: read('nodejs_external_memory_bytes'),
  };
}

/** Samples the bridge's RSS every 250 ms, to know the highest point and when it was; returns the stop. */
export function sampleMemory(ctx: BenchContext): () => void {
  const memory = ctx.report.record.memory;
  const sampler = setInterval(() => {
    const rss = rssBytes(ctx.bridge.pid);
    if (rss > memory.sampledMax) {
      memory.sampledMax = rss;
      memory.sampledMaxAt = ctx.phase;
    }
  }, 250);
  sampler.unref();
  return () => clearInterval(sampler);
}

/** Memory at the end, once the bridge is quiet, and what its heap holds. */
export async function measureMemoryAtEnd(ctx: BenchContext): Promise<void> {
  const { record, say } = ctx.report;
  ctx.phase = 'end';
  await quiet(10_000, [ctx.bridge.pid]);
  memoryPoint(ctx, 'atEnd');
  record.memory.peak = peakRssBytes(ctx.bridge.pid);
  say(
    `bridge RSS: ${Object.entries(record.memory.points)
      .map(([k, v]) => `${k} ${mb(v)}`)
      .join(
        ', ',
      )}; peak (VmHWM) ${mb(record.memory.peak)}, highest sample ${mb(record.memory.sampledMax)} during "${record.memory.sampledMaxAt}"`,
  );
  await Promise.all(ctx.heapReads);
  say(
    `bridge V8 heap, used / total: ${Object.entries(record.memory.heap)
      .map(([k, v]) => `${k} ${mb(v.used)} / ${mb(v.total)}`)
      .join(', ')}`,
  );
  ctx.stopSampler();
  record.heap = await heapSummary(ctx);
  ctx.report.save();
}

/** SIGUSR2 makes the bridge write a heap snapshot; wait for it, summarize it, delete it. */
async function heapSummary(ctx: BenchContext): Promise<HeapSummary | undefined> {
  ctx.phase = 'heap snapshot';
  const snapshots = () => readdirSync(ctx.diagnostics).filter((f) => f.endsWith('.heapsnapshot'));
  try {
    process.kill(ctx.bridge.pid, 'SIGUSR2');
    if (!(await until(() => snapshots().length > 0, 30_000, 200))) throw new Error('no .heapsnapshot within 30 s');
    // The snapshot is written on the bridge's main thread: once it answers again, the file is whole.
    const answered = await until(
      async () => (await call(`${ctx.bridge.url}/healthz`, { timeoutMs: 5_000 })).status === 200,
      120_000,
      200,
    );
    const file = join(ctx.diagnostics, snapshots()[0]!);
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
    ctx.report.say(formatHeapSummary(summary));
    rmSync(file);
    return summary;
  } catch (error) {
    ctx.report.note(`no heap summary: ${String(error)}`);
    return undefined;
  }
}

/** RSS at rest (after warm-up) and at every point (VmHWM). */
export function memoryTargets(memory: BenchRecord['memory'], atRest: number): TargetRow[] {
  return [
    targetRow('bridge RSS at rest', mb(atRest), atRest / (120 * 1_048_576), '≤ 120 MB', (x) => x <= 1),
    targetRow(
      'bridge RSS at every point (VmHWM)',
      mb(memory.peak),
      memory.peak / (150 * 1_048_576),
      '≤ 150 MB',
      (x) => x <= 1,
      `highest sample during "${memory.sampledMaxAt}"`,
    ),
  ];
}
