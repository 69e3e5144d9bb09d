// Each request's trace: its server span (when tracing is on), the trace id on the response and on
// every log line of the request, and the job or delivery the request is about.
//
// - With tracing on, @fastify/otel makes the server span `POST /v1/jobs/{route}` (and a handler
//   span under it, which is what carries the trace into the handler's awaits, so the Temporal
//   client's StartWorkflow span is its child). The span continues the incoming `traceparent`. Every
//   request through the edge has one: the edge keeps a caller's valid header and makes one
//   otherwise (haproxy/haproxy.cfg), so the edge's span id is this span's parent, the tree's root
//   link. The bridge accepts whatever valid header arrives: a caller can only choose its own trace
//   id and parent, and the sampled flag it sends is honoured under the default parent-based sampler
//   (set OTEL_TRACES_SAMPLER=always_on to record every request whatever callers ask).
//   Lifecycle hooks get no spans of their own (cost and noise); health probes get no span at all.
// - With tracing off, nothing is installed but one hook: the trace id of a valid incoming
//   `traceparent` (the edge's) is still returned and logged, so edge and bridge logs correlate.
// - `x-trace-id` (with `x-request-id`) is set on every answer the bridge sends, errors included; the
//   edge sets the same header on its own answers.
// - Log lines: the request's child logger is re-bound with `traceId` once it is known (and with
//   `jobId` or `deliveryId` when a handler learns them), so every line logged for the request,
//   the `answered` line included, carries them next to Fastify's `reqId`. (A pino mixin reading
//   the active span would miss the `answered` line, written after the span ended and outside its
//   context, and would look the context up on every line.)
import type { Attributes, Span } from '@opentelemetry/api';
import type { FastifyInstance, FastifyRequest, FastifyServerOptions } from 'fastify';
import { parseTraceparent } from '../../core/trace-context.js';
import type { Tracing } from '../../telemetry/tracing.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The request's trace id ('' when there is none: tracing off and no valid traceparent). */
    traceId: string;
  }
}

const unsampledPaths = new Set(['/healthz', '/readyz']);

/** Before any other hook or route: the server span (tracing on) and the trace id of every request. */
export async function registerRequestTracing(app: FastifyInstance, tracing?: Tracing): Promise<void> {
  if (tracing?.enabled === true) {
    const { FastifyOtelInstrumentation } = await import('@fastify/otel');
    const instrumentation = new FastifyOtelInstrumentation({
      instrumentHooks: false,
      ignorePaths: (route) => unsampledPaths.has(route.url),
      requestHook: (span, request) => {
        span.updateName(`${request.method} ${request.routeOptions.url ?? ''}`.trim());
        span.setAttribute('gatehouse.request_id', request.id);
      },
      lifecycleHook: (span, info) => {
        if (info.hookName === 'handler') span.updateName(`handler ${info.request.routeOptions.url ?? ''}`.trim());
      },
    });
    await app.register(instrumentation.plugin());
  }
  app.decorateRequest('traceId', '');
  app.addHook('onRequest', (request, reply, done) => {
    const header = parseTraceparent(request.headers.traceparent)?.traceId;
    const traceId = requestSpan(request)?.spanContext().traceId ?? header;
    if (traceId !== undefined) {
      request.traceId = traceId;
      // requestLogger bound a valid header's id already; a new root span's id is bound here.
      if (traceId !== header) request.log = reply.log = request.log.child({ traceId });
    }
    done();
  });
  // The request's ids on every answer, errors included.
  app.addHook('onSend', (request, reply, payload, done) => {
    reply.header('x-request-id', request.id);
    if (request.traceId !== '') reply.header('x-trace-id', request.traceId);
    done(null, payload);
  });
}

/**
 * Fastify's per-request logger, with the trace id of a valid incoming `traceparent` (the edge
 * sends one with every request) bound from the start: one child logger per request, not two.
 */
export const requestLogger: NonNullable<FastifyServerOptions['childLoggerFactory']> = (
  logger,
  bindings,
  options,
  raw,
) => {
  const traceId = parseTraceparent(raw.headers.traceparent)?.traceId;
  return logger.child(traceId === undefined ? bindings : { ...bindings, traceId }, options);
};

/** The request's server span while it is open, when tracing is on. */
export function requestSpan(request: FastifyRequest): Span | undefined {
  if (typeof request.opentelemetry !== 'function') return undefined;
  return request.opentelemetry().span ?? undefined;
}

/**
 * What a handler learned about the request (the job it started or reads, the delivery it
 * carries): on the server span as `gatehouse.*` attributes, and on every later log line.
 */
export function noteRequest(
  request: FastifyRequest,
  fields: { jobId?: string; provider?: string; hook?: string; deliveryId?: string },
): void {
  const attributes: Attributes = {};
  const log: Record<string, string> = {};
  if (fields.jobId !== undefined) {
    attributes['gatehouse.job_id'] = fields.jobId;
    log.jobId = fields.jobId;
  }
  if (fields.provider !== undefined) attributes['gatehouse.webhook.provider'] = fields.provider;
  if (fields.hook !== undefined) attributes['gatehouse.webhook.hook'] = fields.hook;
  if (fields.deliveryId !== undefined) {
    attributes['gatehouse.webhook.delivery_id'] = fields.deliveryId;
    log.deliveryId = fields.deliveryId;
  }
  requestSpan(request)?.setAttributes(attributes);
  if (Object.keys(log).length > 0) request.log = request.log.child(log);
}
