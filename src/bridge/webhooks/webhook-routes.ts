// Webhook intake routes. One route per configured hook: /v1/webhooks/{provider} for the hook named
// `default`, /v1/webhooks/{provider}/{hook} for the others. Bodies stay raw bytes here (their
// SHA-256 is kept for the memo); src/bridge/webhooks/intake.ts does the rest. Every answered
// delivery leaves a record in the delivery log (unauthenticated requests, and signed bodies the
// hook had recorded already, as bounded samples), written after the answer, off its path; when
// the connection closes before the answer goes out, once the delivery's work has ended (a start
// Temporal took keeps its record though the sender never heard the answer). The
// request's server span (the trace's root when the provider sent no trace context) and its log
// lines carry the provider, the hook and the delivery id.
import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { deliveryRecord, type DeliveryRecord } from '../../core/deliveries.js';
import type { GatehouseConfig } from '../../config/load-config.js';
import { boundedDelivery } from '../../providers/provider.js';
import { GatehouseError, ProblemBody } from '../errors.js';
import { toGatehouseError } from '../http/error-handler.js';
import { noteRequest } from '../http/request-tracing.js';
import { configuredHooks } from './configured-hooks.js';
import type { SampleKind } from './delivery-recorder.js';
import { checkDeliveryHeaders, takeDelivery, type DeliveryFindings, type Hook } from './intake.js';
import { WebhookAccepted, WebhookIgnored } from './webhook-schemas.js';

/** Headers kept in every sample, beside the provider's own (WebhookAdapter.sampledHeaders). */
const commonSampledHeaders = ['user-agent', 'content-type', 'content-length'];

export async function webhookRoutes(app: FastifyInstance, opts: { config: GatehouseConfig }) {
  const { config } = opts;
  // This plugin is encapsulated: these parsers keep bodies as raw bytes for its routes only.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(
    ['application/json', 'application/x-www-form-urlencoded'],
    { parseAs: 'buffer' },
    (request, body, done) => {
      request.bodySha256 = createHash('sha256')
        .update(body as Buffer)
        .digest('hex');
      done(null, body);
    },
  );

  for (const target of configuredHooks(config).values()) {
    const name = target.provider.name;
    const sampledHeaders = [...commonSampledHeaders, ...(target.provider.webhook.sampledHeaders ?? [])];
    const findingsByRequest = new WeakMap<
      FastifyRequest,
      { findings: DeliveryFindings; error?: unknown; recorded?: boolean }
    >();
    const findingsOf = (request: FastifyRequest) => {
      let entry = findingsByRequest.get(request);
      if (entry === undefined) findingsByRequest.set(request, (entry = { findings: { verified: false } }));
      return entry;
    };
    /** Counts and records a delivery once, with the status it was (or would have been) answered. */
    const record = (request: FastifyRequest, reply: FastifyReply, status: number, answerLost: boolean) => {
      const entry = findingsOf(request);
      if (entry.recorded === true) return;
      entry.recorded = true;
      const outcome = outcomeOf(entry.findings, status, entry.error);
      app.metrics.webhookDeliveries.inc({ provider: name, outcome: outcome.metric });
      const kind = sampleKind(app, request, target, entry.findings, outcome);
      if (kind !== undefined && !app.deliveries.recorder.sample(kind, name, target.name)) return;
      const sample = kind !== undefined && pickHeaders(request, sampledHeaders);
      app.deliveries.recorder.record(
        recordOf(app, request, reply, { status, answerLost }, target, entry.findings, outcome, sample),
      );
    };
    app.post(
      target.name === 'default' ? `/v1/webhooks/${name}` : `/v1/webhooks/${name}/${target.name}`,
      {
        bodyLimit: config.webhooks.maxBodyBytes,
        config: { auth: false },
        // Before the body is read: headers present, bounded and plausibly signed.
        onRequest: async (request) => {
          const { findings } = findingsOf(request);
          findings.delivery = boundedDelivery(target.provider.webhook.readDelivery(request.headers));
          noteRequest(request, { provider: name, hook: target.name, deliveryId: findings.delivery?.deliveryId });
          checkDeliveryHeaders(request, target, findings.delivery);
        },
        onError: async (request, _reply, error) => {
          findingsOf(request).error = error;
        },
        onResponse: async (request, reply) => record(request, reply, reply.statusCode, false),
        schema: {
          tags: ['webhooks'],
          summary: `${name} deliveries for the "${target.name}" hook`,
          operationId: `webhook-${name}-${target.name}`,
          response: { 200: WebhookIgnored, 202: WebhookAccepted, '4xx': ProblemBody, '5xx': ProblemBody },
        },
      },
      async (request, reply) => {
        const entry = findingsOf(request);
        const work = takeDelivery(app, request, target, entry.findings);
        // Fastify runs onResponse only for an answer that went out. When the connection closes
        // first (the edge gave up on this bridge, the sender hung up), the delivery is recorded
        // when its work ends, with the answer it would have had.
        reply.raw.once('close', () => {
          if (reply.raw.writableFinished) return;
          work.then(
            (answer) => record(request, reply, 'ignored' in answer ? 200 : 202, true),
            (error: unknown) => {
              entry.error ??= error;
              record(request, reply, toGatehouseError(error)?.status ?? 500, true);
            },
          );
        });
        const answer = await work;
        return reply.code('ignored' in answer ? 200 : 202).send(answer);
      },
    );
  }
}

interface Outcome {
  outcome: DeliveryRecord['outcome'];
  reason: string | null;
  /** The label of gatehouse_webhook_deliveries_total. */
  metric: string;
}

/** Only a verified delivery can be one Temporal could not take; anything else is a rejection. */
function outcomeOf(findings: DeliveryFindings, status: number, error: unknown): Outcome {
  const answer = findings.answer;
  if (status < 300 && answer !== undefined) {
    if ('ignored' in answer) return { outcome: 'ignored', reason: answer.ignored, metric: 'ignored' };
    return answer.duplicate
      ? { outcome: 'duplicate', reason: null, metric: 'duplicate' }
      : { outcome: 'accepted', reason: null, metric: 'accepted' };
  }
  const reason = reasonOf(error, status);
  if (reason === 'unavailable' && findings.verified) return { outcome: 'unavailable', reason, metric: reason };
  return { outcome: 'rejected', reason, metric: reason };
}

function reasonOf(error: unknown, status: number): string {
  if (error instanceof GatehouseError) {
    switch (error.code) {
      case 'GATEHOUSE_WEBHOOK_SIGNATURE_INVALID':
        return 'bad_signature';
      case 'GATEHOUSE_TEMPORAL_UNAVAILABLE':
        return 'unavailable';
      case 'GATEHOUSE_WEBHOOK_MALFORMED':
        return 'malformed';
      default:
        return error.code.replace(/^GATEHOUSE_/, '').toLowerCase();
    }
  }
  if (status === 413) return 'too_large';
  if (status === 415) return 'unsupported_media_type';
  if (status === 400) return 'malformed';
  if (status === 503) return 'unavailable';
  return 'error';
}

/**
 * What can be sent at will is kept as a sample only: an unauthenticated request (anybody), and a
 * signed body this hook has recorded before (anybody holding a captured copy, under any event name
 * or delivery id, whatever the answer: ignored, malformed, duplicate). A start that made a new job
 * is never a repeat: Temporal had no job of that body, so it is kept in full. An answer of
 * unavailable does not make the body recorded: the provider's retry is kept in full, and when the
 * unanswered start had reached Temporal that retry is the duplicate that names the job.
 */
function sampleKind(
  app: FastifyInstance,
  request: FastifyRequest,
  hook: Hook,
  findings: DeliveryFindings,
  outcome: Outcome,
): SampleKind | undefined {
  if (!findings.verified) return 'unauthenticated';
  const remember = outcome.outcome !== 'unavailable';
  const repeated = app.deliveries.recorder.repeatedBody(hook.provider.name, hook.name, request.bodySha256, remember);
  if (outcome.outcome === 'accepted') return undefined;
  return repeated ? 'repeat' : undefined;
}

/** The delivery's record; `sample` holds the kept headers when it is kept as a sample. */
function recordOf(
  app: FastifyInstance,
  request: FastifyRequest,
  reply: FastifyReply,
  answered: { status: number; answerLost: boolean },
  hook: Hook,
  findings: DeliveryFindings,
  outcome: Outcome,
  sample: Record<string, string> | false,
): DeliveryRecord {
  const { delivery, event } = findings;
  const answer = findings.answer !== undefined && !('ignored' in findings.answer) ? findings.answer : undefined;
  const length = Number(request.headers['content-length']);
  const refused = outcome.outcome === 'rejected' || outcome.outcome === 'unavailable';
  return deliveryRecord({
    id: app.deliveries.recorder.newId(),
    receivedAt: new Date(Date.now() - reply.elapsedTime).toISOString(),
    provider: hook.provider.name,
    hook: hook.name,
    deliveryId: event?.deliveryId ?? delivery?.deliveryId,
    event: event?.event ?? delivery?.event,
    repository: event === undefined || event.repository.fullName === '' ? null : event.repository.fullName,
    outcome: outcome.outcome,
    reason: outcome.reason,
    detail: refused ? errorDetail(findings, outcome) : answered.answerLost ? answerLostDetail : null,
    status: answered.status,
    jobId: answer?.jobId,
    runId: answer?.runId,
    route: answer?.route,
    bodySha256: findings.verified ? request.bodySha256 : null,
    bodyBytes: Number.isSafeInteger(length) ? length : null,
    origin: 'provider',
    sample: sample === false ? null : { headers: sample, clientAddress: request.ip },
    // A sample keeps no event: the body's first record has it, and is the one to replay.
    gitEvent: sample === false ? event : null,
  });
}

const answerLostDetail = 'the connection closed before the answer was sent; the provider may send it again';

function errorDetail(findings: DeliveryFindings, outcome: Outcome): string | undefined {
  if (outcome.reason === 'unavailable') return 'Temporal could not take the start; the provider should send it again';
  return findings.verified ? 'the signature verified, but the payload was refused' : undefined;
}

function pickHeaders(request: FastifyRequest, names: readonly string[]): Record<string, string> {
  const kept: Record<string, string> = {};
  for (const name of names) {
    const value = request.headers[name];
    if (typeof value === 'string') kept[name] = value.slice(0, 200);
  }
  return kept;
}
