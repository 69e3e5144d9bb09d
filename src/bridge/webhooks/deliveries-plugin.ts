// The delivery log in the bridge: the store (PostgreSQL shared by every replica when
// webhooks.deliveryLog.url is set, else this process's memory), the recorder the webhook routes
// write through, retention, and the admins' API: list and read records, and replay one as a new
// job linked to it.
//
// Replay starts the hook's route for the stored, verified event (the rules as configured now, so a
// delivery ignored by a rule since fixed can be replayed). The safe mode refuses while a job of
// that delivery is running or after one succeeded, unless `force` is given: replaying a success is
// a second run, and the admin must say so.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { randomUUID } from 'node:crypto';
import { Counter } from 'prom-client';
import { WorkflowNotFoundError } from '@temporalio/client';
import { mayLookUpDeliveries } from '../../core/access.js';
import {
  DeliveryLogUnavailable,
  isDeliveryRecordId,
  type DeliveryLog,
  type DeliveryRecord,
} from '../../core/deliveries.js';
import { contractStatus } from '../../core/job-status.js';
import { durationMs } from '../../config/duration.js';
import type { GatehouseConfig } from '../../config/load-config.js';
import { openDeliveryLog } from '../../deliveries/open-delivery-log.js';
import { GatehouseError } from '../errors.js';
import { deriveJobId, keyHeaderPattern, type JobKey } from '../jobs/job-id.js';
import { jobLinks, ProblemBody } from '../jobs/job-schemas.js';
import { openDeliveryPageToken, sealDeliveryPageToken } from './delivery-page-token.js';
import { createDeliveryRecorder, type DeliveryRecorder } from './delivery-recorder.js';
import {
  DeliveryBody,
  DeliveryIdParams,
  DeliveryListBody,
  DeliveryListQuery,
  ReplayAnswer,
  ReplayRequest,
} from './delivery-schemas.js';
import { checkedEvent, startForEvent } from './intake.js';
import { configuredHooks } from './configured-hooks.js';

declare module 'fastify' {
  interface FastifyInstance {
    deliveries: { log: DeliveryLog; recorder: DeliveryRecorder };
  }
}

/** How often each replica prunes the log (pruning is idempotent, so replicas may overlap). */
const pruneEveryMs = 10 * 60_000;
const firstPruneMs = 60_000;

async function deliveriesPlugin(app: FastifyInstance, opts: { config: GatehouseConfig }) {
  const { config } = opts;
  const settings = config.webhooks.deliveryLog;
  // With PostgreSQL the log connects in the background: a bridge starts while the database is down.
  // The log reports rows it refused; the recorder, made next, counts them.
  const late: { recorder?: DeliveryRecorder } = {};
  const connectionErrors = new Counter({
    name: 'gatehouse_postgres_connection_errors_total',
    help: 'PostgreSQL connections that broke (server restart, dropped connection); each is replaced on next use',
    labelNames: ['store'],
    registers: [app.metrics.registry],
  });
  const log = await openDeliveryLog({
    maxEntries: settings.maxEntries,
    maxSamples: settings.maxSamples,
    ...(config.deliveryLogUrl === undefined ? {} : { url: config.deliveryLogUrl }),
    onError: (error) => app.log.warn({ error: error.message }, 'the delivery log cannot reach its database yet'),
    onConnectionLost: (error) => {
      connectionErrors.inc({ store: 'delivery_log' });
      app.log.warn(
        { store: 'delivery_log', error: error.message },
        'a PostgreSQL connection broke; it is dropped and a new one is opened on next use',
      );
    },
    onSkipped: (count, reason) => {
      late.recorder?.lost('row_refused', count);
      app.log.warn({ records: count, reason }, 'the delivery log refused some records; they are lost');
    },
  });
  const recorder = (late.recorder = createDeliveryRecorder(log, {
    samplesPerMinute: settings.rejectedSamplesPerMinute,
    registry: app.metrics.registry,
    logger: app.log,
  }));
  app.decorate('deliveries', { log, recorder });
  const prune = () =>
    log
      .prune(new Date(Date.now() - durationMs(settings.retention)), {
        records: settings.maxEntries,
        samples: settings.maxSamples,
      })
      .catch((error: unknown) => app.log.warn({ error: (error as Error).message }, 'pruning the delivery log failed'));
  let pruner: NodeJS.Timeout = setTimeout(function again() {
    void prune();
    pruner = setTimeout(again, pruneEveryMs);
    pruner.unref();
  }, firstPruneMs);
  pruner.unref();
  app.addHook('onClose', async () => {
    clearTimeout(pruner);
    await recorder.close();
  });
}

export const deliveriesStore = fp(deliveriesPlugin, {
  name: 'gatehouse-deliveries',
  dependencies: ['gatehouse-metrics'],
});

/** Checked before the query or body is validated, so a non-admin learns nothing from a 400. */
const adminOnly =
  (rules: { adminGroups: readonly string[] }) =>
  async (request: FastifyRequest): Promise<void> => {
    if (!mayLookUpDeliveries(request.identity, rules))
      throw new GatehouseError('GATEHOUSE_FORBIDDEN', 'Only admins may read or replay webhook deliveries');
  };

/** The log's own outage is a 503 the admin can retry, never a 500. */
async function fromLog<T>(read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (error) {
    if (error instanceof DeliveryLogUnavailable)
      throw new GatehouseError('GATEHOUSE_DELIVERY_LOG_UNAVAILABLE', 'The delivery log cannot be reached now', {
        headers: { 'retry-after': '5' },
        cause: error,
      });
    throw error;
  }
}

const notFound = () => new GatehouseError('GATEHOUSE_DELIVERY_NOT_FOUND', 'There is no delivery record with this id');

/** The admins' routes: list, read, replay. */
export async function deliveryRoutes(app: FastifyInstance, opts: { config: GatehouseConfig }) {
  const hooks = configuredHooks(opts.config);
  const { rules } = app.jobs;
  const security = [{ bearerAuth: [] }];
  const preValidation = adminOnly(rules);

  app.get(
    '/v1/webhooks/deliveries',
    {
      preValidation,
      schema: {
        tags: ['webhooks'],
        summary: 'Admins: the delivery log, newest first',
        operationId: 'list-webhook-deliveries',
        security,
        querystring: DeliveryListQuery,
        response: { 200: DeliveryListBody, '4xx': ProblemBody, '5xx': ProblemBody },
      },
    },
    async (request) => {
      const query = request.query as {
        provider?: string;
        hook?: string;
        outcome?: DeliveryRecord['outcome'];
        repository?: string;
        deliveryId?: string;
        since?: string;
        pageSize?: number;
        pageToken?: string;
      };
      const since = query.since === undefined ? undefined : new Date(query.since);
      if (since !== undefined && Number.isNaN(since.getTime()))
        throw new GatehouseError('GATEHOUSE_BAD_REQUEST', 'since is not a time this API can read');
      const filter = {
        provider: query.provider,
        hook: query.hook,
        outcome: query.outcome,
        repository: query.repository,
        deliveryId: query.deliveryId,
        since: since?.toISOString(),
      };
      const before = query.pageToken === undefined ? undefined : openDeliveryPageToken(query.pageToken, filter);
      const limit = query.pageSize ?? 50;
      const records = await fromLog(() =>
        app.deliveries.log.list({
          ...(query.provider === undefined ? {} : { provider: query.provider }),
          ...(query.hook === undefined ? {} : { hook: query.hook }),
          ...(query.outcome === undefined ? {} : { outcome: query.outcome }),
          ...(query.repository === undefined ? {} : { repository: query.repository }),
          ...(query.deliveryId === undefined ? {} : { deliveryId: query.deliveryId }),
          ...(since === undefined ? {} : { since: since.toISOString() }),
          ...(before === undefined ? {} : { before }),
          limit: limit + 1,
        }),
      );
      const page = records.slice(0, limit);
      return {
        deliveries: page.map(summary),
        nextPageToken: records.length > limit ? sealDeliveryPageToken(page.at(-1)!.id, filter) : null,
      };
    },
  );

  app.get(
    '/v1/webhooks/deliveries/:id',
    {
      preValidation,
      schema: {
        tags: ['webhooks'],
        summary: 'Admins: one delivery record, with the event it carried',
        operationId: 'get-webhook-delivery',
        security,
        params: DeliveryIdParams,
        response: { 200: DeliveryBody, '4xx': ProblemBody, '5xx': ProblemBody },
      },
    },
    async (request) => {
      const record = await readRecord(app, (request.params as { id: string }).id);
      return {
        ...summary(record),
        gitEvent: record.gitEvent as Record<string, unknown> | null,
        links: record.jobId === null ? null : jobLinks(record.jobId),
      };
    },
  );

  app.post(
    '/v1/webhooks/deliveries/:id/replay',
    {
      preValidation,
      schema: {
        tags: ['webhooks'],
        summary: "Admins: start a delivery's job again, as a new job linked to the record",
        description:
          'Refused (409 GATEHOUSE_REPLAY_UNSAFE) while a job of the same delivery is running or after one succeeded, unless force is true. Send an Idempotency-Key to make a retried replay answer the same job.',
        operationId: 'replay-webhook-delivery',
        security,
        params: DeliveryIdParams,
        body: ReplayRequest,
        response: { 202: ReplayAnswer, '4xx': ProblemBody, '5xx': ProblemBody },
      },
    },
    async (request, reply) => {
      const record = await readRecord(app, (request.params as { id: string }).id);
      const force = (request.body as { force?: boolean } | undefined)?.force === true;
      const hook = hooks.get(`${record.provider}/${record.hook}`);
      if (record.gitEvent === null || hook === undefined) {
        throw new GatehouseError(
          'GATEHOUSE_DELIVERY_NOT_REPLAYABLE',
          hook === undefined
            ? `The ${record.provider} hook "${record.hook}" is no longer configured`
            : `Only deliveries whose signature verified can be replayed; this one was ${record.outcome}${record.reason === null ? '' : ` (${record.reason})`}`,
        );
      }
      const key: JobKey = {
        kind: 'replay',
        provider: record.provider,
        hook: record.hook,
        record: record.id,
        value: replayKey(request),
      };
      // A retried replay (same Idempotency-Key) answers its job; only a new one is checked.
      const replayJob = deriveJobId('', '', key);
      if (!force && (await statusOf(app, replayJob)) === undefined) await refuseUnsafeReplay(app, request, record);
      let event;
      try {
        event = checkedEvent(hook, record.gitEvent);
      } catch (error) {
        throw new GatehouseError(
          'GATEHOUSE_DELIVERY_NOT_REPLAYABLE',
          `The stored event is not acceptable now: ${(error as Error).message}`,
        );
      }
      const answer = await startForEvent(app, request, hook, event, key, {
        record: record.id,
        jobId: record.jobId,
        requestedBy: request.identity.principal,
      });
      if ('ignored' in answer) {
        throw new GatehouseError(
          'GATEHOUSE_DELIVERY_NOT_REPLAYABLE',
          `No rule of the hook starts a job for this event now (${answer.ignored})`,
        );
      }
      const id = app.deliveries.recorder.newId();
      app.deliveries.recorder.record({
        ...record,
        id,
        receivedAt: new Date().toISOString(),
        outcome: answer.duplicate ? 'duplicate' : 'accepted',
        reason: null,
        detail: force ? 'replayed with force' : null,
        status: 202,
        jobId: answer.jobId,
        runId: answer.runId,
        route: answer.route,
        origin: 'replay',
        replayOf: record.id,
        requestedBy: request.identity.principal,
        sample: null,
      });
      return reply.code(202).send({ ...answer, replayOf: record.id, record: id });
    },
  );
}

async function readRecord(app: FastifyInstance, id: string): Promise<DeliveryRecord> {
  if (!isDeliveryRecordId(id)) throw notFound();
  const record = await fromLog(() => app.deliveries.log.get(id));
  if (record === undefined) throw notFound();
  return record;
}

/** A job's status, read from Temporal itself (not visibility, which may lag); undefined if none. */
async function statusOf(app: FastifyInstance, jobId: string): Promise<string | undefined> {
  try {
    const description = await app.temporal.call((client) => client.workflow.getHandle(jobId).describe());
    return contractStatus(description.status.name);
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) return undefined;
    throw error;
  }
}

/**
 * A job of this delivery still running, or succeeded: refuse. The record's own job is read from
 * Temporal directly; earlier replays and other jobs of the same delivery id through visibility.
 */
async function refuseUnsafeReplay(app: FastifyInstance, request: FastifyRequest, record: DeliveryRecord) {
  const blocking: Array<{ jobId: string; status: string }> = [];
  if (record.jobId !== null) {
    const status = await statusOf(app, record.jobId);
    if (status === 'RUNNING' || status === 'COMPLETED') blocking.push({ jobId: record.jobId, status });
  }
  if (blocking.length === 0 && record.deliveryId !== null) {
    const { jobs } = await app.jobs.ofDelivery(request.identity, record.deliveryId);
    blocking.push(...jobs.filter((job) => job.status === 'RUNNING' || job.status === 'COMPLETED'));
  }
  if (blocking.length === 0) return;
  throw new GatehouseError(
    'GATEHOUSE_REPLAY_UNSAFE',
    `A job of this delivery is ${blocking[0]!.status.toLowerCase()} (${blocking.map((job) => job.jobId).join(', ')}); send {"force": true} to replay it anyway`,
  );
}

function replayKey(request: FastifyRequest): string {
  const header = request.headers['idempotency-key'];
  if (header === undefined) return randomUUID();
  if (typeof header !== 'string' || !keyHeaderPattern.test(header))
    throw new GatehouseError('GATEHOUSE_BAD_REQUEST', 'Idempotency-Key must be 1 to 255 printable ASCII characters');
  return header;
}

function summary(record: DeliveryRecord) {
  const { gitEvent, ...rest } = record;
  return { ...rest, replayable: gitEvent !== null };
}
