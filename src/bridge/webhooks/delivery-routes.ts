// The admins' API over the delivery log: list and read records, and replay one as a new job
// linked to it. Replay starts the hook's route for the stored, verified event (the rules as
// configured now, so a delivery ignored by a rule since fixed can be replayed); when it is safe to
// is replay-rules.ts's.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { mayLookUpDeliveries } from '../../core/access.js';
import { DeliveryLogUnavailable, isDeliveryRecordId, type DeliveryRecord } from '../../core/deliveries.js';
import type { GatehouseConfig } from '../../config/load-config.js';
import { GatehouseError, ProblemBody } from '../errors.js';
import { deriveJobId, type JobKey } from '../jobs/derive-job-id.js';
import { jobLinks } from '../jobs/job-schemas.js';
import { openDeliveryPageToken, sealDeliveryPageToken } from './delivery-page-token.js';
import {
  DeliveryBody,
  DeliveryIdParams,
  DeliveryListBody,
  DeliveryListQuery,
  ReplayAnswer,
  ReplayRequest,
} from './delivery-schemas.js';
import { configuredHooks } from './configured-hooks.js';
import { checkedEvent, startForEvent } from './intake.js';
import { checkReplaySafe, replayKey } from './replay-rules.js';

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
      await checkReplaySafe(app, request, record, { replayJobId: deriveJobId('', '', key), force });
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

function summary(record: DeliveryRecord) {
  const { gitEvent, ...rest } = record;
  return { ...rest, replayable: gitEvent !== null };
}
