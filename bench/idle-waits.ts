// Scenario (6) of the bench alone: idle `?wait=30` long-polls held open on one bridge, and what
// each costs in memory. It starts what run.ts starts for it (a Temporal dev server, a dev issuer,
// the compiled bridge with the image's Node flags under a raised open-file limit) and nothing else,
// so a change to the waiting path can be measured in a few minutes instead of a whole bench run.
//   npm run -s build && node --import tsx bench/idle-waits.ts
//   knobs: BENCH_IDLE_BRIDGE=<dir> (another build's dist, to compare two builds back to back),
//   BENCH_IDLE_POLLS=3000 (waiters held), BENCH_IDLE_SNAPSHOT=1 (heap snapshots at rest and
//   while held: what a waiter retains after a full GC; the snapshots blur that run's RSS figures)
// After a warm-up (a tenth of the waiters, opened and dropped), the waiters are opened 400 a second
// as in run.ts, each asking again when its wait ends; once the bridge is quiet its RSS and V8 heap
// are read, then every client leaves at once and the bridge must let go of them. Prints one line
// and the figures as JSON.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startBridge } from './bridge-process.js';
import { startDevIssuer } from '../src/dev/dev-issuer.js';
import { startDevServer } from '../src/dev/temporal-dev-server.js';
import { formatHeapSummary, summarizeHeapSnapshot } from './heap-summary.js';
import { call, sleep, until } from './load.js';
import { cpuMs, openFds, peakRssBytes, raiseOwnFileLimit, rssBytes } from './proc.js';

const waiters = Number(process.env.BENCH_IDLE_POLLS ?? 0) || 3_000;
const snapshot = process.env.BENCH_IDLE_SNAPSHOT === '1';
const build = process.env.BENCH_IDLE_BRIDGE ?? 'dist';
const mb = (bytes: number) => `${(bytes / 1_048_576).toFixed(1)} MB`;
const say = (line: string) => process.stdout.write(`${line}\n`);
const cleanups: Array<() => Promise<void> | void> = [];

async function main(): Promise<void> {
  raiseOwnFileLimit(65_536);
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-idle-waits-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const diagnostics = join(dir, 'diagnostics');
  mkdirSync(diagnostics);
  const temporal = await startDevServer();
  cleanups.push(() => temporal.stop());
  const issuer = await startDevIssuer();
  cleanups.push(() => issuer.close());

  const bridge = await startBridge({
    temporalAddress: temporal.address,
    issuer,
    webhookSecret: 'x',
    diagnostics,
    nodeArgs: [],
    env: {},
    cleanups,
    build,
  });
  const { pid, port, url, metricsAddress } = bridge;

  const token = await issuer.mint({ sub: 'bench-rs' }, { alg: 'RS256', expiresIn: 7200 });
  const started = await call(`${url}/v1/jobs/policy-check`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      action: { type: 'Gatehouse::Action', id: 'read' },
      resource: { type: 'Gatehouse::Repository', id: 'acme/website' },
    }),
    timeoutMs: 10_000,
  });
  if (started.status !== 202) throw new Error(`starting a job answered ${started.status}: ${started.body}`);
  const { jobId } = JSON.parse(started.body) as { jobId: string };
  const request =
    `GET /v1/jobs/${jobId}?wait=30 HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n` +
    `Authorization: Bearer ${token}\r\nConnection: keep-alive\r\n\r\n`;

  const heap = async () => {
    const body = (await call(`http://${metricsAddress}/metrics`, { timeoutMs: 10_000 })).body;
    return Number(/^gatehouse_nodejs_heap_size_used_bytes (\S+)$/m.exec(body)?.[1]);
  };
  const quiet = () => {
    let last = cpuMs(pid);
    return until(
      async () => {
        await sleep(500);
        const now = cpuMs(pid);
        const busy = now - last;
        last = now;
        return busy < 100;
      },
      20_000,
      0,
    );
  };

  /** Opens `count` waiting clients, 100 every 250 ms, as run.ts does; each asks again when answered 200. */
  const hold = async (count: number) => {
    const sockets: Socket[] = [];
    const tally = { connected: 0, waiting: 0, statuses: {} as Record<string, number> };
    for (let i = 0; i < count; i += 100) {
      for (let j = i; j < Math.min(count, i + 100); j += 1) {
        const socket = connect(port, '127.0.0.1');
        let waiting = false;
        const ask = () => {
          if (socket.destroyed) return;
          socket.write(request);
          waiting = true;
          tally.waiting += 1;
        };
        socket.once('connect', () => {
          tally.connected += 1;
          ask();
        });
        socket.on('data', (chunk: Buffer) => {
          if (!waiting || chunk.toString('latin1', 0, 9) !== 'HTTP/1.1 ') return;
          waiting = false;
          tally.waiting -= 1;
          const code = chunk.toString('latin1', 9, 12);
          tally.statuses[code] = (tally.statuses[code] ?? 0) + 1;
          if (code === '200') ask();
        });
        socket.on('error', () => undefined);
        socket.on('close', () => {
          if (waiting) tally.waiting -= 1;
          waiting = false;
        });
        sockets.push(socket);
      }
      await sleep(250);
    }
    return { sockets, tally };
  };
  const release = async (sockets: Socket[], fdsAtStart: number) => {
    for (const socket of sockets) socket.destroy();
    return until(() => openFds(pid) <= fdsAtStart + 10, 20_000, 250);
  };

  // Warm-up: the waiting path compiled and its first heap growth paid before "before".
  const fdsAtStart = openFds(pid);
  const warm = await hold(Math.max(100, Math.round(waiters / 10)));
  await until(() => warm.tally.waiting >= warm.tally.connected, 10_000, 250);
  await release(warm.sockets, fdsAtStart);
  await quiet();

  /** A heap snapshot (V8 collects all garbage first): what the heap retains, summarized. */
  const takeSnapshot = async () => {
    const snapshots = () => readdirSync(diagnostics).filter((f) => f.endsWith('.heapsnapshot'));
    process.kill(pid, 'SIGUSR2');
    await until(() => snapshots().length > 0, 60_000, 200);
    const file = join(diagnostics, snapshots()[0]!);
    let size = -1;
    await until(
      async () => {
        const now = statSync(file).size;
        const stable = now === size && (await call(`${url}/healthz`, { timeoutMs: 5_000 })).status === 200;
        size = now;
        return stable;
      },
      120_000,
      500,
    );
    const summary = summarizeHeapSnapshot(file, 80);
    rmSync(file);
    return summary;
  };
  const restingSummary = snapshot ? await takeSnapshot() : undefined;
  if (snapshot) await quiet();

  const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  const before = { rss: rssBytes(pid), heap: await heap(), cpu: cpuMs(pid) };
  const { sockets, tally } = await hold(waiters);
  await until(() => openFds(pid) - fdsAtStart >= 0.98 * tally.connected, 10_000, 250);
  await quiet();
  const held = { rss: rssBytes(pid), heap: await heap(), cpu: cpuMs(pid), waiting: tally.waiting };
  const heldSummary = snapshot ? await takeSnapshot() : undefined;
  const released = await release(sockets, fdsAtStart);
  await quiet();
  const after = { rss: rssBytes(pid), heap: await heap(), peak: peakRssBytes(pid) };
  const perWaiter = (bytes: number) => `${(bytes / Math.max(1, held.waiting) / 1024).toFixed(1)} KB`;
  say(
    `idle waits: ${held.waiting}/${waiters} waiting (load ${load}); RSS ${mb(before.rss)} → ${mb(held.rss)} ` +
      `(+${mb(held.rss - before.rss)}, ${perWaiter(held.rss - before.rss)} a waiter); heap used ${mb(before.heap)} → ` +
      `${mb(held.heap)} (${perWaiter(held.heap - before.heap)} a waiter); bridge CPU ${((held.cpu - before.cpu) / Math.max(1, tally.connected)).toFixed(2)} ms a waiter to set up; ` +
      `after release ${mb(after.rss)} (heap ${mb(after.heap)}${released ? '' : ', sockets still held after 20 s'}); peak ${mb(after.peak)}; ` +
      `answers while held ${JSON.stringify(tally.statuses)}`,
  );
  if (restingSummary !== undefined && heldSummary !== undefined) {
    const retained = heldSummary.totalBytes - restingSummary.totalBytes;
    say(
      `heap retained (snapshots, after a full GC): ${mb(restingSummary.totalBytes)} → ${mb(heldSummary.totalBytes)}, ` +
        `${perWaiter(retained)} a waiter (RSS figures of this run include the snapshots' own memory)`,
    );
    // What the waiters added, by constructor or kind, biggest first.
    const grown = new Map<string, { bytes: number; count: number }>();
    for (const [sign, summary] of [
      [1, heldSummary],
      [-1, restingSummary],
    ] as const) {
      for (const entry of [...summary.top, ...summary.topClosures.map((c) => ({ ...c, name: `closure ${c.name}` }))]) {
        const seen = grown.get(entry.name) ?? { bytes: 0, count: 0 };
        grown.set(entry.name, { bytes: seen.bytes + sign * entry.selfBytes, count: seen.count + sign * entry.count });
      }
    }
    say('grown while held, per waiter (bytes, objects):');
    for (const [name, { bytes, count }] of [...grown].sort((a, b) => b[1].bytes - a[1].bytes).slice(0, 25)) {
      say(
        `  ${(bytes / held.waiting).toFixed(0).padStart(6)}  ${(count / held.waiting).toFixed(2).padStart(6)}  ${name.slice(0, 70)}`,
      );
    }
    say(formatHeapSummary(heldSummary));
  }
  say(JSON.stringify({ waiters, load, before, held, after, released, statuses: tally.statuses }));
}

try {
  await main();
} catch (error) {
  process.exitCode = 1;
  process.stderr.write(`idle-waits: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
} finally {
  for (const cleanup of cleanups.reverse()) await Promise.resolve(cleanup()).catch(() => undefined);
}
