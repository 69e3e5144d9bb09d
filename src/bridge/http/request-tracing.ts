// Each request's trace: its server span (when tracing is on), the trace id on the response and on
// every log line of the request, and the job or delivery the request is about.
// Why it works as it does: docs/observability.md, "A request's trace, in the bridge".
import { TraceFlags, type Attributes, type Link, type Span } from '@opentelemetry/api';
import type { FastifyBaseLogger, FastifyInstance, FastifyRequest, FastifyServerOptions } from 'fastify';
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
  if (Object.keys(log).length === 0) return;
  // The request's own logger (requestLogger made it) takes the fields: a second child logger
  // would be one more object held for as long as the request is, which a long-poll is.
  const logger = request.log as FastifyBaseLogger & { setBindings?: (bindings: Record<string, string>) => void };
  if (typeof logger.setBindings === 'function') logger.setBindings(log);
  else request.log = request.log.child(log);
}
