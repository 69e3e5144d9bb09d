// Writes delivery records off the answer's path: a record is queued in memory when the delivery
// is answered and written with others in one batch shortly after, so the 202 never waits for the
// log, and a log that is slow or down costs a warning and a counter, never a delivery. The queue
// is bounded: while the log is down the oldest unwritten records are dropped (and counted).
//
// Unauthenticated rejections are anybody's to send, so they are recorded only as samples: at most
// `samplesPerMinute` per hook and minute; the rest are only counted (in the deliveries metric).
import { randomBytes } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import { Counter, type Registry } from 'prom-client';
import { newDeliveryRecordId, type DeliveryLog, type DeliveryRecord } from '../../core/deliveries.js';

export interface DeliveryRecorder {
  /** A fresh record id (time-ordered). */
  newId(): string;
  /** Queues a record; never throws, never waits. */
  record(record: DeliveryRecord): void;
  /** Whether an unauthenticated rejection for this hook may be kept as a sample now. */
  sampleRejection(provider: string, hook: string): boolean;
  /** Writes what is queued (tests and shutdown). */
  flush(): Promise<void>;
  close(): Promise<void>;
}

const batchSize = 200;
const flushDelayMs = 100;
const maxQueued = 10_000;

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
  const samples = new Map<string, { minute: number; count: number }>();

  const write = async () => {
    timer = undefined;
    while (queue.length > 0) {
      const batch = queue.slice(0, batchSize);
      queue = queue.slice(batch.length);
      try {
        await log.append(batch);
      } catch (error) {
        failures.inc({ reason: 'write_failed' }, batch.length);
        options.logger.warn(
          { records: batch.length, error: (error as Error).message },
          'the delivery log refused a write; these records are lost',
        );
      }
    }
  };
  const schedule = () => {
    if (timer !== undefined) return;
    timer = setTimeout(() => {
      writing = writing.then(write);
    }, flushDelayMs);
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
      schedule();
    },
    sampleRejection(provider, hook) {
      if (options.samplesPerMinute === 0) return false;
      const minute = Math.floor(Date.now() / 60_000);
      const key = `${provider}/${hook}`;
      const window = samples.get(key);
      if (window === undefined || window.minute !== minute) {
        samples.set(key, { minute, count: 1 });
        return true;
      }
      window.count += 1;
      return window.count <= options.samplesPerMinute;
    },
    async flush() {
      if (timer !== undefined) clearTimeout(timer);
      writing = writing.then(write);
      await writing;
    },
    async close() {
      await this.flush();
      await log.close();
    },
  };
}
