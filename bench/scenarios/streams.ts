// (5b) Job event streams: 1,000 (BENCH_STREAMS, whatever the scale; capped by the open-file
// limits) held open (GET /v1/jobs/{id}/events) on the one bridge over raw sockets, on 10 idle jobs
// (no worker runs them), so each job's streams share one watch. 50 admin subjects open 20 each
// (limits.maxStreamsPerCaller), 200 every 250 ms. Measured: the set-up CPU per stream, RSS growth
// while they are held (after the bridge is quiet), the bridge's CPU over a 30 s hold (heartbeats:
// one per stream every limits.streamHeartbeat, 15 s), the watches the gauge reports, then every
// client leaves and the bridge must let go of them all.
import { connect, type Socket } from 'node:net';
import type { BenchContext } from '../context.js';
import { callTimeoutMs, streamTarget } from '../knobs.js';
import { call, emptyRun, sleep, until } from '../load.js';
import { measure, quiet } from '../measure.js';
import { memoryPoint } from '../memory.js';
import { cpuMs, openFds, rssBytes } from '../proc.js';
import { mb, signedMb, targetRow, type TargetRow } from '../targets.js';

/** The memory budget for `streamTarget` streams (64 KB a stream; bench/README.md, Targets). */
const streamBudgetBytes = 64 * 1_048_576;

export async function measureStreams(ctx: BenchContext): Promise<Record<string, unknown>> {
  const result = await holdStreams(ctx);
  memoryPoint(ctx, 'afterStreams');
  return result;
}

async function holdStreams(ctx: BenchContext): Promise<Record<string, unknown>> {
  const { say, note, record } = ctx.report;
  const bridgePid = ctx.bridge.pid;
  const bridgePort = ctx.bridge.port;
  const streamCount = ctx.knobs.streams;
  const bridgeUrl = `http://127.0.0.1:${bridgePort}`;
  const fdsAtStart = openFds(bridgePid);
  const room = Math.min(ctx.openFiles.bridge - fdsAtStart, ctx.openFiles.bench - openFds(process.pid)) - 500;
  const count = Math.min(streamCount, room);
  if (count < streamCount) note(`event streams capped at ${count} by open-file limits`);
  const jobs: string[] = [];
  for (let i = 0; i < 10; i += 1) {
    const answer = await call(`${bridgeUrl}/v1/jobs/policy-check`, {
      method: 'POST',
      headers: ctx.auth,
      body: ctx.query,
      timeoutMs: callTimeoutMs,
    });
    if (answer.status === 202) jobs.push((JSON.parse(answer.body) as { jobId: string }).jobId);
  }
  if (jobs.length === 0) {
    note('event streams not measured: no job could be started');
    return {};
  }
  const perSubject = 20;
  const tokens: string[] = [];
  for (let i = 0; i < Math.ceil(count / perSubject); i += 1) {
    tokens.push(
      await ctx.issuer.mint({ sub: `bench-sse-${i}`, groups: ['gatehouse-admins'] }, { alg: 'ES256', expiresIn: 7200 }),
    );
  }
  const gauge = async () => {
    const answer = await call(`http://${ctx.bridge.metricsAddress}/metrics`, { timeoutMs: callTimeoutMs });
    const value = (kind: string) =>
      Number(new RegExp(`gatehouse_job_streams\\{kind="${kind}"\\} (\\d+)`).exec(answer.body)?.[1] ?? Number.NaN);
    return { clients: value('clients'), watches: value('watches') };
  };
  let result: Record<string, unknown> = {};
  await measure(ctx, 'job event streams', ['bridge'], async () => {
    const began = performance.now();
    const stopAt = Date.now() + 120_000;
    await quiet(15_000, [bridgePid]);
    const before = rssBytes(bridgePid);
    const cpuBefore = cpuMs(bridgePid);
    const sockets: Socket[] = [];
    const tally = { connected: 0, open: 0, heartbeats: 0, errors: 0, closedByBridge: 0 };
    const statuses: Record<string, number> = {};
    let stopping = false;
    const open = (i: number) => {
      const socket = connect(bridgePort, '127.0.0.1');
      let seen = '';
      let opened = false;
      socket.setEncoding('latin1');
      socket.once('connect', () => {
        tally.connected += 1;
        socket.write(
          `GET /v1/jobs/${jobs[i % jobs.length]}/events HTTP/1.1\r\nHost: 127.0.0.1:${bridgePort}\r\n` +
            `Authorization: Bearer ${tokens[Math.floor(i / perSubject)]}\r\nAccept: text/event-stream\r\n\r\n`,
        );
      });
      socket.on('data', (chunk: string) => {
        if (!opened) {
          seen += chunk;
          if (seen.length < 12) return;
          const code = seen.slice(9, 12);
          if (code !== '200') {
            statuses[code] = (statuses[code] ?? 0) + 1;
            opened = true; // answered, not a stream
            return;
          }
          if (!seen.includes('event: status')) return;
          opened = true;
          tally.open += 1;
          statuses[code] = (statuses[code] ?? 0) + 1;
          seen = '';
          return;
        }
        if (chunk.includes(': keep-alive')) tally.heartbeats += 1;
      });
      socket.on('error', () => (tally.errors += 1));
      socket.on('close', () => {
        if (!stopping) tally.closedByBridge += 1;
      });
      sockets.push(socket);
    };
    for (let i = 0; i < count && Date.now() < stopAt; i += 200) {
      for (let j = i; j < Math.min(count, i + 200); j += 1) open(j);
      await sleep(250);
    }
    await until(() => Object.values(statuses).reduce((a, b) => a + b, 0) + tally.errors >= count, 20_000, 100);
    const rampMs = performance.now() - began;
    const setupCpu = cpuMs(bridgePid) - cpuBefore;
    await quiet(15_000, [bridgePid]);
    const whileHeld = rssBytes(bridgePid);
    const held = tally.open;
    const seenByGauge = await gauge();
    // Held for 30 s: what the open streams cost the bridge while nothing happens (heartbeats).
    const holdCpuBefore = cpuMs(bridgePid);
    const beatsBefore = tally.heartbeats;
    const holdMs = 30_000;
    await sleep(holdMs);
    const holdCpu = cpuMs(bridgePid) - holdCpuBefore;
    const heartbeats = tally.heartbeats - beatsBefore;
    record.memory.points.duringStreams = whileHeld;
    stopping = true;
    for (const socket of sockets) socket.destroy();
    const released = await until(() => openFds(bridgePid) <= fdsAtStart + 10, 20_000, 250);
    const afterGauge = await gauge();
    await quiet(15_000, [bridgePid]);
    const after = rssBytes(bridgePid);
    result = {
      planned: count,
      jobs: jobs.length,
      connected: tally.connected,
      held,
      statuses,
      connectErrors: tally.errors,
      closedByBridge: tally.closedByBridge,
      rampSeconds: rampMs / 1000,
      setupCpuMsPerStream: setupCpu / Math.max(1, held),
      watches: seenByGauge.watches,
      clientsByGauge: seenByGauge.clients,
      rssBefore: before,
      rssWhileHeld: whileHeld,
      growthBytes: whileHeld - before,
      perStreamBytes: (whileHeld - before) / Math.max(1, held),
      heldSeconds: holdMs / 1000,
      heartbeatsWhileHeld: heartbeats,
      heldCpuMs: holdCpu,
      heldCpuMsPerStreamMinute: (holdCpu / Math.max(1, held)) * (60_000 / holdMs),
      releasedWithin20s: released,
      gaugeAfterRelease: afterGauge,
      rssAfterRelease: after,
    };
    say(
      `  job event streams: ${held}/${count} open on ${jobs.length} jobs (${seenByGauge.watches} watches) in ${(rampMs / 1000).toFixed(1)} s, ` +
        `${(setupCpu / Math.max(1, held)).toFixed(2)} ms CPU each to set up; RSS ${mb(before)} → ${mb(whileHeld)} ` +
        `(${signedMb(whileHeld - before)}, ${((whileHeld - before) / Math.max(1, held) / 1024).toFixed(1)} KB each); ` +
        `held ${holdMs / 1000} s: ${heartbeats} heartbeats, ${holdCpu} ms CPU; ${mb(after)} after release` +
        `${released ? '' : ' (bridge still holding sockets after 20 s)'}${tally.closedByBridge > 0 ? `, ${tally.closedByBridge} closed by the bridge` : ''}`,
    );
    return {
      ...emptyRun(count, performance.now() - began),
      answered: Object.values(statuses).reduce((a, b) => a + b, 0),
      ok: held,
      failed:
        tally.errors +
        Object.entries(statuses)
          .filter(([code]) => code !== '200')
          .reduce((a, [, n]) => a + n, 0),
      statuses,
      finished: held >= count,
    };
  });
  return result;
}

export function streamTargets(streams: Record<string, unknown>): TargetRow[] {
  const streamGrowth = Number(streams.growthBytes ?? Number.NaN);
  const streamsHeld = Number(streams.held ?? 0);
  return [
    targetRow(
      `${streamTarget} job event streams: bridge RSS growth`,
      `${signedMb(streamGrowth)} at ${streamsHeld} open (${(streamGrowth / Math.max(1, streamsHeld) / 1024).toFixed(1)} KB each)`,
      streamGrowth / streamBudgetBytes,
      `< ${streamBudgetBytes / 1_048_576} MB`,
      (x) => x < 1,
      streamsHeld < 0.95 * streamTarget
        ? `${streamsHeld} of ${streamTarget} open: indicative only`
        : `${Number(streams.watches ?? Number.NaN)} Temporal watches; bridge CPU ${Number(streams.heldCpuMsPerStreamMinute ?? Number.NaN).toFixed(2)} ms per stream-minute held`,
    ),
  ];
}
