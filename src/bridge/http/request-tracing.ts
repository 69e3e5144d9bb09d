// Each request's trace: its server span (when tracing is on), the trace id on the response and on
// every log line of the request, and the job or delivery the request is about.
//
// - With tracing on, @fastify/otel makes the server span `POST /v1/jobs/{route}` (and a handler
//   span under it, which is what carries the trace into the handler's awaits, so the Temporal
//   client's StartWorkflow span is its child). The span continues the incoming `traceparent`, which
//   is the edge's: the edge starts a trace of its own for every request (haproxy/haproxy.cfg), so
//   the edge's span id is this span's parent, the tree's root link. A caller's own valid
//   `traceparent` reaches the bridge as X-Caller-Traceparent and becomes a link on the server span,
//   never its parent: a caller cannot put its job into someone else's trace.
// - Sampling is not the caller's: traces are an audit record. The incoming sampled flag is set
//   before the span starts, so the bridge's sampler (OTEL_TRACES_SAMPLER, default
//   parentbased_always_on) decides alone, even for a request that reached the bridge without the
//   edge (which must not happen in a deployment: the bridges are reachable only from the edge).
// - `url.path` is the path alone: the query string (which may carry anything a caller put there)
//   is not recorded. Lifecycle hooks get no spans of their own (cost and noise); health probes get
//   no span at all.
// - With tracing off, nothing is installed but one hook: the trace id of a valid incoming
//   `traceparent` (the edge's) is still returned and logged, so edge and bridge logs correlate.
// - `x-trace-id` (with `x-request-id`) is set on every answer the bridge sends, errors included; the
//   edge sets the same header on its own answers.
// - Log lines: the request's child logger is re-bound with `traceId` once it is known (and with
//   `jobId` or `deliveryId` when a handler learns them), so every line logged for the request,
//   the `answered` line included, carries them next to Fastify's `reqId`. (A pino mixin reading
//   the active span would miss the `answered` line, written after the span ended and outside its
//   context, and would look the context up on every line.)
import { TraceFlags, type Attributes, type Link, type Span } from '@opentelemetry/api';
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
/** Where the edge puts a caller's own valid traceparent (the caller's header of that name is dropped). */
export const callerTraceparentHeader = 'x-caller-traceparent';

/** Before any other hook or route: the server span (tracing on) and the trace id of every request. */
export async function registerRequestTracing(app: FastifyInstance, tracing?: Tracing): Promise<void> {
  if (tracing?.enabled === true) {
    // Before the instrumentation's own hook reads the header: whatever flags came in, the request
    // is sampled as far as its parent is concerned, and the sampler decides.
    app.addHook('onRequest', (request, _reply, done) => {
      const incoming = parseTraceparent(request.headers.traceparent);
      if (incoming !== undefined && incoming.flags !== '01')
        request.headers.traceparent = `00-${incoming.traceId}-${incoming.parentId}-01`;
      done();
    });
    const { FastifyOtelInstrumentation } = await import('@fastify/otel');
    const instrumentation = new FastifyOtelInstrumentation({
      instrumentHooks: false,
      ignorePaths: (route) => unsampledPaths.has(route.url),
      requestHook: (span, request) => {
        span.updateName(`${request.method} ${request.routeOptions.url ?? ''}`.trim());
        span.setAttribute('gatehouse.request_id', request.id);
        span.setAttribute('url.path', request.url.split('?', 1)[0]!);
        const caller = callerLink(request.headers[callerTraceparentHeader]);
        if (caller !== undefined) span.addLink(caller);
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

/** The caller's own trace context, as a link of the request's span (`gatehouse.link: caller`). */
function callerLink(header: unknown): Link | undefined {
  const caller = parseTraceparent(header);
  if (caller === undefined) return undefined;
  return {
    context: {
      traceId: caller.traceId,
      spanId: caller.parentId,
      traceFlags: Number.parseInt(caller.flags, 16) & TraceFlags.SAMPLED,
      isRemote: true,
    },
    attributes: { 'gatehouse.link': 'caller' },
  };
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
