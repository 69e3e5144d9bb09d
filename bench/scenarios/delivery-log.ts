// (7b) The delivery log: what writing it costs the bridge, per record, measured in this process with the
// bridge's own recorder: records shaped as the intake writes them for a 1 KB push, queued as the
// webhook routes queue them (after the answer), then flushed. CPU is this process's (user +
// system) over the whole run, so it includes building the batches and, for PostgreSQL, the
// client's side of the inserts; the database server's own work is not the bridge's.
import { randomBytes } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import { Registry } from 'prom-client';
import { createDeliveryRecorder } from '../../src/bridge/webhooks/delivery-recorder.js';
import type { DeliveryLog, DeliveryRecord } from '../../src/core/deliveries.js';
import { createMemoryDeliveryLog } from '../../src/deliveries/memory-log.js';
import { openPostgresDeliveryLog } from '../../src/deliveries/postgres-log.js';
import { startPostgres } from '../../src/dev/postgres.js';
import type { BenchContext } from '../context.js';
import { targetRow, type TargetRow } from '../targets.js';
import type { WebhookFigures } from './webhooks.js';

export interface DeliveryLogCost {
  records: number;
  /** Bridge CPU per record, in microseconds. */
  memoryCpuUs: number;
  postgresCpuUs?: number;
  /** Wall time to write them all to PostgreSQL (batches of the recorder's size). */
  postgresWallMs?: number;
  postgresSkipped?: string;
}

function recordFor(recorderId: string, index: number): DeliveryRecord {
  const after = randomBytes(20).toString('hex');
  return {
    id: recorderId,
    receivedAt: new Date().toISOString(),
    provider: 'github',
    hook: 'default',
    deliveryId: `bench-${index}-${randomBytes(8).toString('hex')}`,
    event: 'push',
    repository: 'Codertocat/Hello-World',
    outcome: 'accepted',
    reason: null,
    detail: null,
    status: 202,
    jobId: `github.${randomBytes(24).toString('base64url')}`,
    runId: '0196f2b4-6a59-7d2e-9b7a-3c1e5f0a9d11',
    route: 'git-event',
    bodySha256: randomBytes(32).toString('hex'),
    bodyBytes: 1024,
    origin: 'provider',
    replayOf: null,
    requestedBy: null,
    sample: null,
    gitEvent: {
      provider: 'github',
      hook: 'default',
      deliveryId: `bench-${index}`,
      event: 'push',
      kind: 'push',
      repository: { fullName: 'Codertocat/Hello-World', cloneUrl: 'https://github.com/Codertocat/Hello-World.git' },
      ref: 'refs/heads/main',
      branch: 'main',
      before: '0'.repeat(40),
      after,
      sender: { login: 'Codertocat', id: '21031067' },
    },
  };
}

async function cpuPerRecord(log: DeliveryLog, records: number): Promise<{ cpuUs: number; wallMs: number }> {
  const recorder = createDeliveryRecorder(log, {
    samplesPerMinute: 20,
    registry: new Registry(),
    logger: { warn() {} } as unknown as FastifyBaseLogger,
  });
  // The test data is made first: only the recorder's and the store's work is measured.
  const batch = Array.from({ length: records }, (_, i) => recordFor('', i));
  const started = process.cpuUsage();
  const wall = performance.now();
  for (const record of batch) recorder.record({ ...record, id: recorder.newId() });
  await recorder.flush();
  const used = process.cpuUsage(started);
  const wallMs = performance.now() - wall;
  await recorder.close();
  return { cpuUs: (used.user + used.system) / records, wallMs };
}

async function costPerRecord(records: number): Promise<DeliveryLogCost> {
  const memory = await cpuPerRecord(createMemoryDeliveryLog({ maxEntries: 100_000, maxSamples: 10_000 }), records);
  const cost: DeliveryLogCost = { records, memoryCpuUs: memory.cpuUs };
  let postgres;
  try {
    postgres = await startPostgres();
    const log = await openPostgresDeliveryLog(postgres.url);
    const written = await cpuPerRecord(log, records);
    cost.postgresCpuUs = written.cpuUs;
    cost.postgresWallMs = written.wallMs;
  } catch (error) {
    cost.postgresSkipped = (error as Error).message.split('\n')[0];
  } finally {
    await postgres?.stop();
  }
  return cost;
}

/** 5,000 records (scaled), in memory and to PostgreSQL when one can be started here. */
export async function measureDeliveryLog(ctx: BenchContext): Promise<DeliveryLogCost | undefined> {
  ctx.phase = 'delivery log';
  try {
    const logCost = await costPerRecord(ctx.knobs.n(5_000));
    ctx.report.say(
      `delivery log: ${logCost.records} records, bridge CPU per record ${logCost.memoryCpuUs.toFixed(1)} µs in memory, ${
        logCost.postgresCpuUs === undefined
          ? `PostgreSQL skipped (${logCost.postgresSkipped})`
          : `${logCost.postgresCpuUs.toFixed(1)} µs to PostgreSQL (${logCost.postgresWallMs!.toFixed(0)} ms for all)`
      }`,
    );
    return logCost;
  } catch (error) {
    ctx.report.note(`delivery log not measured: ${(error as Error).message}`);
    return undefined;
  }
}

/** A record against a 1 KB delivery's bridge CPU: the larger of memory and PostgreSQL. */
export function deliveryLogTargets(logCost: DeliveryLogCost | undefined, { hook1k }: WebhookFigures): TargetRow[] {
  const perDeliveryUs = (hook1k?.cpuMsPerOp.bridge ?? Number.NaN) * 1000;
  const recordUs = Math.max(logCost?.memoryCpuUs ?? Number.NaN, logCost?.postgresCpuUs ?? 0);
  return [
    targetRow(
      'delivery log: CPU per record / bridge CPU per 1 KB delivery',
      logCost === undefined ? 'n/a' : `${recordUs.toFixed(1)} µs vs ${perDeliveryUs.toFixed(0)} µs`,
      recordUs / perDeliveryUs,
      '≤ 0.05x',
      (x) => x <= 0.05,
      'recorded after the answer, off the 202 path; the larger of memory and PostgreSQL',
    ),
  ];
}
