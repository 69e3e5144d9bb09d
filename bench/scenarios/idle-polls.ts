// (6) Idle long-polls: up to 10,000 (BENCH_IDLE_POLLS, capped by the open-file limits) held open
// on the one bridge over raw sockets, ?wait=30 (the configured maximum), opened 400 a second, each
// asking again when its wait ends; RSS growth while they are held, then every client leaves at
// once and the bridge must let go of them.
import { connect, type Socket } from 'node:net';
import type { BenchContext } from '../context.js';
import { idlePollTarget } from '../knobs.js';
import { emptyRun, sleep, until } from '../load.js';
import { measure, quiet } from '../measure.js';
import { heapPoint, memoryPoint } from '../memory.js';
import { openFds, rssBytes } from '../proc.js';
import { mb, signedMb, targetRow, type TargetRow } from '../targets.js';

export interface IdlePolls {
  /** What the record keeps (bench/results: scenarios.idleLongPolls). */
  figures: Record<string, unknown>;
  /** When every client had left (ms since the epoch); 0 if the scenario never got that far. */
  releasedAt: number;
}

export async function measureIdlePolls(ctx: BenchContext): Promise<IdlePolls> {
  const { say, note, record } = ctx.report;
  const { bridge: bridgeFiles, bench: ownFiles } = ctx.openFiles;
  const bridgePid = ctx.bridge.pid;
  const bridgePort = ctx.bridge.port;
  const idlePolls = ctx.knobs.idlePolls;
  let idle: Record<string, unknown> = {};
  let idleReleased = 0;
  const fdsAtStart = openFds(bridgePid);
  const room = Math.min(bridgeFiles - fdsAtStart, ownFiles - openFds(process.pid)) - 500;
  const idleCount = Math.min(idlePolls, room);
  if (idleCount < idlePolls) {
    note(`idle long-polls capped at ${idleCount} by open-file limits (bench ${ownFiles}, bridge ${bridgeFiles})`);
  }
  await measure(ctx, 'idle long-polls', ['bridge'], async () => {
    const began = performance.now();
    const stopAt = Date.now() + 120_000;
    const before = rssBytes(bridgePid);
    const sockets: Socket[] = [];
    const tally = { connected: 0, requests: 0, waiting: 0, repolls: 0, retries: 0, errors: 0, closedByBridge: 0 };
    const statuses: Record<string, number> = {};
    const samples: string[] = [];
    let stopping = false;
    const request =
      `GET /v1/jobs/${ctx.jobId}?wait=30 HTTP/1.1\r\nHost: 127.0.0.1:${bridgePort}\r\n` +
      `Authorization: Bearer ${ctx.token}\r\nConnection: keep-alive\r\n\r\n`;
    // Each client behaves as a long-polling client would: it asks again at once when its wait ends
    // (200), and 2 s after any other answer. Raw sockets: one per client, one request at a time.
    const open = () => {
      const socket = connect(bridgePort, '127.0.0.1');
      let waiting = false;
      const ask = () => {
        if (stopping || socket.destroyed) return;
        socket.write(request);
        waiting = true;
        tally.waiting += 1;
        tally.requests += 1;
      };
      socket.once('connect', () => {
        tally.connected += 1;
        ask();
      });
      socket.on('data', (chunk: Buffer) => {
        // Only a status line ends a wait; the rest of a response may come in later chunks.
        if (!waiting || chunk.toString('latin1', 0, 9) !== 'HTTP/1.1 ') return;
        waiting = false;
        tally.waiting -= 1;
        const code = chunk.toString('latin1', 9, 12);
        statuses[code] = (statuses[code] ?? 0) + 1;
        if (code === '200') {
          tally.repolls += 1;
          ask();
          return;
        }
        // A few refusals as they came, to say why (the problem document's title and detail).
        const text = chunk.toString('utf8');
        if (samples.length < 3 && !samples.some((x) => x.startsWith(code))) {
          samples.push(`${code} ${text.slice(text.indexOf('\r\n\r\n') + 4).slice(0, 300)}`);
        }
        tally.retries += 1;
        setTimeout(ask, 2_000).unref();
      });
      socket.on('error', () => (tally.errors += 1));
      socket.on('close', () => {
        if (waiting) tally.waiting -= 1;
        waiting = false;
        if (!stopping) tally.closedByBridge += 1;
      });
      sockets.push(socket);
    };
    // A ramp, not a wall: 100 every 250 ms (400 a second), well under what the bridge can set up.
    for (let i = 0; i < idleCount && Date.now() < stopAt; i += 100) {
      for (let j = i; j < Math.min(idleCount, i + 100); j += 1) open();
      await sleep(250);
    }
    const rampMs = performance.now() - began;
    // Held: the bridge has accepted them all and is no longer busy setting them up.
    await until(() => openFds(bridgePid) - fdsAtStart >= 0.98 * tally.connected, 10_000, 250);
    await quiet(15_000, [bridgePid]);
    const whileHeld = rssBytes(bridgePid);
    const fdsHeld = openFds(bridgePid);
    const held = tally.waiting;
    record.memory.points.duringIdlePolls = whileHeld;
    await heapPoint(ctx, 'duringIdlePolls');
    // A clean abort: every client leaves, and the bridge should let go of every wait.
    stopping = true;
    for (const socket of sockets) socket.destroy();
    const released = await until(() => openFds(bridgePid) <= fdsAtStart + 10, 20_000, 250);
    idleReleased = Date.now();
    await quiet(20_000, [bridgePid]);
    const after = rssBytes(bridgePid);
    const refused = Object.entries(statuses)
      .filter(([code]) => code !== '200')
      .reduce((sum, [, count]) => sum + count, 0);
    idle = {
      planned: idleCount,
      connected: tally.connected,
      rampSeconds: rampMs / 1000,
      heldAtMeasurement: held,
      requests: tally.requests,
      repollsAfterWaitEnded: tally.repolls,
      retriesAfterRefusal: tally.retries,
      statuses,
      refusals: samples,
      connectErrors: tally.errors,
      closedByBridge: tally.closedByBridge,
      rssBefore: before,
      rssWhileHeld: whileHeld,
      growthBytes: whileHeld - before,
      perPollBytes: (whileHeld - before) / Math.max(1, held),
      bridgeFdsHeld: fdsHeld,
      releasedWithin20s: released,
      bridgeFdsAfter: openFds(bridgePid),
      rssAfterRelease: after,
    };
    say(
      `  idle long-polls: ${tally.connected}/${idleCount} connected in ${(rampMs / 1000).toFixed(1)} s, ${held} waiting when measured ` +
        `(bridge fds ${fdsHeld}); ${tally.requests} requests (${tally.repolls} re-polls after a wait ended, ${refused} refused ` +
        `${JSON.stringify(Object.fromEntries(Object.entries(statuses).filter(([c]) => c !== '200')))}); ` +
        `RSS ${mb(before)} → ${mb(whileHeld)} (${signedMb(whileHeld - before)}, ${((whileHeld - before) / Math.max(1, held) / 1024).toFixed(1)} KB per waiting poll), ` +
        `${mb(after)} after release${released ? '' : ' (bridge still holding sockets after 20 s)'}`,
    );
    for (const sample of samples) say(`  refused: ${sample.replace(/\s+/g, ' ')}`);
    return {
      ...emptyRun(idleCount, performance.now() - began),
      // CPU per op is per long-poll request: set-up, answer or release.
      answered: tally.requests,
      ok: held,
      failed: tally.errors + refused,
      statuses,
      finished: tally.connected >= idleCount,
    };
  });
  memoryPoint(ctx, 'afterIdlePolls');
  return { figures: idle, releasedAt: idleReleased };
}

export function idlePollTargets(idle: Record<string, unknown>): TargetRow[] {
  const growth = Number(idle.growthBytes ?? Number.NaN);
  const held = Number(idle.heldAtMeasurement ?? 0);
  return [
    targetRow(
      `${idlePollTarget} idle long-polls: bridge RSS growth`,
      `${signedMb(growth)} at ${held} waiting`,
      growth / (100 * 1_048_576),
      '< 100 MB',
      (x) => x < 1,
      held < 0.95 * idlePollTarget ? `${held} of ${idlePollTarget} waiting: indicative only` : undefined,
    ),
  ];
}
