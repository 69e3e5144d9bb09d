// W3C Trace Context (`traceparent`, version 00), read strictly: the same rule as the edge's
// (haproxy/haproxy.cfg), so the bridge and the edge agree on which header is a trace context.
// Lowercase hex only, and neither id all zeros; anything else is not a trace context at all.

export interface TraceParent {
  traceId: string;
  /** The caller's span: the parent of whatever continues the trace. */
  parentId: string;
  flags: string;
}

const traceparentPattern = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;
const zeroTraceId = '0'.repeat(32);
const zeroSpanId = '0'.repeat(16);

/** The parts of a valid `traceparent` header value, or undefined (absent, repeated or malformed). */
export function parseTraceparent(value: unknown): TraceParent | undefined {
  if (typeof value !== 'string') return undefined;
  const match = traceparentPattern.exec(value);
  if (match === null) return undefined;
  const [, traceId, parentId, flags] = match as unknown as [string, string, string, string];
  if (traceId === zeroTraceId || parentId === zeroSpanId) return undefined;
  return { traceId, parentId, flags };
}
