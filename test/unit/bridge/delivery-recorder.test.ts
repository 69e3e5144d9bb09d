// The recorder between the webhook routes and the delivery log: it never waits or throws on the
// answer's path, keeps records while the log is unreachable and writes them when it is back,
// drops a batch the log refuses for good (counted), samples what anybody can send at will, and
// gives a shutdown a few seconds at most. The log here is a scripted store: the recorder is the
// unit under test.
import type { FastifyBaseLogger } from 'fastify';
import { Registry } from 'prom-client';
import { describe, expect, it, vi } from 'vitest';
import {
  createDeliveryRecorder,
  rememberedBodies,
  type SampleKind,
} from '../../../src/bridge/webhooks/delivery-recorder.js';
import { DeliveryLogUnavailable, type DeliveryLog, type DeliveryRecord } from '../../../src/core/deliveries.js';

function scriptedLog() {
  const stored: DeliveryRecord[] = [];
  const state = { mode: 'up' as 'up' | 'down' | 'refuse' | 'hang', appends: 0, closed: false };
  const log: DeliveryLog = {
    kind: 'postgres',
    async append(records) {
      state.appends += 1;
      if (state.mode === 'down') throw new DeliveryLogUnavailable('the database cannot be reached');
      if (state.mode === 'refuse') throw new RangeError('a record the store will never take');
      if (state.mode === 'hang') return new Promise<void>(() => {});
      stored.push(...records);
    },
    list: async () => [],
    get: async () => undefined,
    seen: async () => new Set(),
    prune: async () => 0,
    async close() {
      state.closed = true;
    },
  };
  return { log, stored, state };
}

const logger = { warn() {}, info() {} } as unknown as FastifyBaseLogger;
const record = (id: string) => ({ id, deliveryId: id }) as unknown as DeliveryRecord;

function recorderFor(log: DeliveryLog, samplesPerMinute = 3) {
  const registry = new Registry();
  return { recorder: createDeliveryRecorder(log, { samplesPerMinute, registry, logger }), registry };
}

async function failures(registry: Registry): Promise<Record<string, number>> {
  const metric = await registry.getSingleMetric('gatehouse_delivery_log_failures_total')!.get();
  return Object.fromEntries(metric.values.map((v) => [String(v.labels.reason), v.value]));
}

describe('the delivery recorder', () => {
  it('writes queued records in batches, shortly after they are queued', async () => {
    const { log, stored, state } = scriptedLog();
    const { recorder } = recorderFor(log);
    for (let i = 0; i < 450; i += 1) recorder.record(record(`r${i}`));
    expect(stored).toHaveLength(0);
    await vi.waitFor(() => expect(stored).toHaveLength(450), { timeout: 5_000, interval: 20 });
    expect(state.appends).toBe(3);
    expect(stored.map((r) => r.id)).toEqual(Array.from({ length: 450 }, (_, i) => `r${i}`));
  });

  it('keeps records while the log is unreachable, and writes them when it is back', async () => {
    const { log, stored, state } = scriptedLog();
    const { recorder, registry } = recorderFor(log);
    state.mode = 'down';
    recorder.record(record('a'));
    recorder.record(record('b'));
    await vi.waitFor(() => expect(state.appends).toBeGreaterThan(0), { timeout: 2_000, interval: 20 });
    state.mode = 'up';
    recorder.record(record('c'));
    await vi.waitFor(() => expect(stored.map((r) => r.id)).toEqual(['a', 'b', 'c']), { timeout: 5_000, interval: 50 });
    expect(await failures(registry)).toEqual({});
  });

  it('drops a batch the log refuses for good, and counts it', async () => {
    const { log, stored, state } = scriptedLog();
    const { recorder, registry } = recorderFor(log);
    state.mode = 'refuse';
    recorder.record(record('bad'));
    await recorder.flush();
    state.mode = 'up';
    recorder.record(record('good'));
    await recorder.flush();
    expect(stored.map((r) => r.id)).toEqual(['good']);
    expect(await failures(registry)).toEqual({ write_failed: 1 });
  });

  it('samples at most samplesPerMinute of each kind per hook', () => {
    const { log } = scriptedLog();
    const { recorder } = recorderFor(log, 3);
    const taken = (kind: SampleKind, hook: string) =>
      Array.from({ length: 10 }, () => recorder.sample(kind, 'github', hook)).filter(Boolean).length;
    expect(taken('unauthenticated', 'a')).toBe(3);
    expect(taken('repeat', 'a')).toBe(3);
    expect(taken('unauthenticated', 'b')).toBe(3);
    expect(recorderFor(log, 0).recorder.sample('unauthenticated', 'github', 'a')).toBe(false);
  });

  it('remembers the bodies each hook recorded, the newest rememberedBodies of them', () => {
    const { log } = scriptedLog();
    const { recorder } = recorderFor(log);
    const body = (n: number) => n.toString(16).padStart(64, '0');
    expect(recorder.repeatedBody('github', 'a', body(1), false)).toBe(false);
    expect(recorder.repeatedBody('github', 'a', body(1))).toBe(false);
    expect(recorder.repeatedBody('github', 'a', body(1))).toBe(true);
    expect(recorder.repeatedBody('github', 'a', body(1), false)).toBe(true);
    expect(recorder.repeatedBody('github', 'b', body(1))).toBe(false);
    expect(recorder.repeatedBody('gitea', 'a', body(1))).toBe(false);
    for (let n = 2; n <= rememberedBodies; n += 1) recorder.repeatedBody('github', 'a', body(n));
    // Past the bound, the oldest are forgotten first: body 1 of hook a among them.
    expect(recorder.repeatedBody('github', 'a', body(rememberedBodies))).toBe(true);
    expect(recorder.repeatedBody('github', 'a', body(1))).toBe(false);
  });

  it('keeps trying at shutdown: a log back within the deadline gets what was queued', async () => {
    const { log, stored, state } = scriptedLog();
    const { recorder, registry } = recorderFor(log);
    state.mode = 'down';
    recorder.record(record('queued'));
    await vi.waitFor(() => expect(state.appends).toBeGreaterThan(0), { timeout: 2_000, interval: 20 });
    const back = setTimeout(() => (state.mode = 'up'), 1_000);
    await recorder.close();
    clearTimeout(back);
    expect(stored.map((r) => r.id)).toEqual(['queued']);
    expect(await failures(registry)).toEqual({});
  }, 15_000);

  it('gives a shutdown a few seconds at most, counting what it could not write', async () => {
    const { log, state } = scriptedLog();
    const { recorder, registry } = recorderFor(log);
    state.mode = 'hang';
    recorder.record(record('stuck'));
    const started = Date.now();
    await recorder.close();
    expect(Date.now() - started).toBeLessThan(8_000);
    expect(state.closed).toBe(true);
    expect(await failures(registry)).toEqual({ shutdown: 1 });
  }, 15_000);
});
