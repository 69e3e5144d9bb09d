// The activities' own spans: named steps inside an activity (a Cedar evaluation, each CI step, a
// status-API call, the Argo submit, the ledger write), children of Temporal's RunActivity span,
// which the worker's interceptor makes active around each attempt. Made with the OpenTelemetry
// API's global tracer: when the process does not trace, that tracer is a no-op, every span is a
// free placeholder and the trace context injected below is empty.
import {
  context,
  propagation,
  SpanStatusCode,
  trace,
  type Attributes,
  type Span,
  type SpanKind,
} from '@opentelemetry/api';

const tracer = trace.getTracer('gatehouse-activities');

/** Runs `fn` in a span of its own (ended when fn settles; an error marks it failed and is rethrown). */
export async function inSpan<T>(
  name: string,
  options: { kind?: SpanKind; attributes?: Attributes },
  fn: (span: Span) => Promise<T>,
): Promise<T> {
  return tracer.startActiveSpan(name, options, async (span) => {
    try {
      return await fn(span);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      span.setStatus({ code: SpanStatusCode.ERROR, message: message.slice(0, 300) });
      throw error;
    } finally {
      span.end();
    }
  });
}

/**
 * The active span as W3C trace-context headers (`traceparent`, and `tracestate` when there is
 * one), for an outgoing request or a child process; empty when nothing is traced.
 */
export function traceContextHeaders(): Record<string, string> {
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  return carrier;
}
