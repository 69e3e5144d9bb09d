// Writes delivery records off the answer's path: a record is queued in memory when the delivery
// is answered and written with others in one batch shortly after, so the 202 never waits for the
// log, and a log that is slow or down costs a warning and a counter, never a delivery. While the
// log is unreachable the queue is kept and the write retried with a growing pause; the queue is
// bounded, so a long outage drops the oldest unwritten records (counted). At shutdown the queue
// gets a few seconds to drain, tried again within them, never longer.
//
// Unauthenticated rejections are anybody's to send, and a signed body the hook has already
// recorded is anybody's who holds a captured copy (under any event name or delivery id), so both
// are recorded only as samples: at most `samplesPerMinute` of each kind per hook and minute; the
// rest are only counted (in the deliveries metric). Which bodies a hook has recorded is
// remembered here, per process, for the last `rememberedBodies` bodies: a body forgotten, or
// first seen by another replica, is kept in full once more, which the log's "seen" tolerates
// (it counts only the first verified record of a body).
import { randomBytes } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import { Counter, type Registry } from 'prom-client';
import {
  DeliveryLogUnavailable,
  newDeliveryRecordId,
  type DeliveryLog,
  type DeliveryRecord,
} from '../../core/deliveries.js';

export interface DeliveryRecorder {
  /** A fresh record id (time-ordered). */
  newId(): string;
  /** Queues a record; never throws, never waits. */
  record(record: DeliveryRecord): void;
  /**
   * Whether a record of this kind for this hook may be kept now: unauthenticated requests and
   * repeats of a signed body (which anybody holding a captured body can send again and again)
   * are sampled.
   */
  sample(kind: SampleKind, provider: string, hook: string): boolean;
  /**
   * Whether this hook has recorded this signed body before (as far as this process remembers);
   * remembers it from now on.
   */
  /**
   * Whether this hook recorded the body before; `remember: false` asks without recording it (an
   * answer of unavailable, whose retry must be kept in full).
   */
  repeatedBody(provider: string, hook: string, bodySha256: string, remember?: boolean): boolean;
  /** Counts records lost elsewhere (rows the log refused one by one). */
  lost(reason: string, count: number): void;
  /** Writes what is queued (tests and shutdown). */
  flush(): Promise<void>;
  close(): Promise<void>;
}

export type SampleKind = 'unauthenticated' | 'repeat';

const batchSize = 200;
const flushDelayMs = 100;
const maxQueued = 10_000;
const maxRetryMs = 30_000;
const closeDeadlineMs = 5_000;
const closeRetryMs = 250;
/** About 150 bytes each: a few MB at most. */
export const rememberedBodies = 20_000;

export function createDeliveryRecorder(
  log: DeliveryLog,
  options: { samplesPerMinute: number; registry: Registry; logger: FastifyBaseLogger },
): DeliveryRecorder {
  const failures = new Counter({
    name: 'gatehouse_delivery_log_failures_total',
    help: 'Delivery records not written: the log refused the write, or the queue was full while it was down',
    labelNames: ['reason'],
    registers: [options.registry],
  });
  let queue: DeliveryRecord[] = [];
  let timer: NodeJS.Timeout | undefined;
  let writing: Promise<void> = Promise.resolve();
  let retryMs = 0;
  let closed = false;
  const samples = new Map<string, { minute: number; count: number }>();
  /** `provider \0 hook \0 body hash`, oldest first (a Map keeps insertion order). */
  const bodies = new Map<string, true>();

  const write = async () => {
    timer = undefined;
    while (queue.length > 0) {
      const batch = queue.slice(0, batchSize);
      try {
        await log.append(batch);
      } catch (error) {
        if (error instanceof DeliveryLogUnavailable && !closed) {
          // Kept: written when the log is back.
          if (retryMs === 0)
            options.logger.warn(
              { queued: queue.length, error: error.message },
              'the delivery log is unreachable; retrying',
            );
          retryMs = Math.min(maxRetryMs, Math.max(1_000, retryMs * 2));
          schedule(retryMs);
          return;
        }
        failures.inc({ reason: 'write_failed' }, batch.length);
        options.logger.warn(
          { records: batch.length, error: (error as Error).message },
          'the delivery log refused a write; these records are lost',
        );
      }
      if (retryMs !== 0) options.logger.info('the delivery log is reachable again');
      retryMs = 0;
      // Records may have been dropped from the front while the write was in flight.
      const written = new Set(batch);
      queue = queue.filter((record) => !written.has(record));
    }
  };
  const schedule = (delayMs = flushDelayMs) => {
    if (timer !== undefined || closed) return;
    timer = setTimeout(() => {
      writing = writing.then(write);
    }, delayMs);
    timer.unref();
  };

  return {
    newId: () => newDeliveryRecordId(new Date(), randomBytes(6).toString('hex')),
    record(record) {
      queue.push(record);
      if (queue.length > maxQueued) {
        const dropped = queue.length - maxQueued;
        queue = queue.slice(dropped);
        failures.inc({ reason: 'queue_full' }, dropped);
      }
      if (retryMs === 0) schedule();
    },
    sample(kind, provider, hook) {
      if (options.samplesPerMinute === 0) return false;
      const minute = Math.floor(Date.now() / 60_000);
      const key = `${kind}/${provider}/${hook}`;
      const window = samples.get(key);
      if (window === undefined || window.minute !== minute) {
        samples.set(key, { minute, count: 1 });
        return true;
      }
      window.count += 1;
      return window.count <= options.samplesPerMinute;
    },
    repeatedBody(provider, hook, bodySha256, remember = true) {
      const key = `${provider}\u0000${hook}\u0000${bodySha256}`;
      if (bodies.has(key)) return true;
      if (!remember) return false;
      bodies.set(key, true);
      if (bodies.size > rememberedBodies) bodies.delete(bodies.keys().next().value!);
      return false;
    },
    lost(reason, count) {
      failures.inc({ reason }, count);
    },
    async flush() {
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
      writing = writing.then(write);
      await writing;
    },
    async close() {
      const until = Date.now() + closeDeadlineMs;
      // Written until the queue is empty or the deadline passes, trying again every quarter
      // second: a log that is back a moment after the first try (PostgreSQL restarted as the
      // bridge rolls) still gets what was queued.
      const drain = async () => {
        await this.flush();
        while (queue.length > 0 && Date.now() + closeRetryMs < until) {
          await new Promise((resolve) => setTimeout(resolve, closeRetryMs));
          await this.flush();
        }
      };
      let deadline: NodeJS.Timeout | undefined;
      await Promise.race([
        drain(),
        new Promise<void>((resolve) => {
          deadline = setTimeout(resolve, closeDeadlineMs);
          deadline.unref();
        }),
      ]);
      clearTimeout(deadline);
      closed = true;
      if (timer !== undefined) clearTimeout(timer);
      if (queue.length > 0) failures.inc({ reason: 'shutdown' }, queue.length);
      await log.close();
    },
  };
}
