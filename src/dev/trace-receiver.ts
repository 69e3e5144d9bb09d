// A small OTLP/HTTP trace receiver for the dev stack, the tests and the benchmark: it takes what
// the bridge and the workers export (POST /v1/traces, OTLP's JSON encoding, which the 1.x SDK's
// HTTP exporter sends), keeps the latest spans in memory, answers them as JSON and prints a trace
// as a tree. It is no tracing backend: a real one (Jaeger, an OpenTelemetry Collector) takes the
// same requests on its port 4318, and `docker compose up` runs Jaeger. The dev stack runs this
// one because no Jaeger or Collector binary can be installed here without a build from source of
// many minutes.
//   GET /api/traces            the latest traces: id, root span, span count, services, duration
//   GET /api/traces/<id>       one trace's spans (JSON); add ?format=tree for the printed tree
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  /** Absent for a root span. */
  parentSpanId?: string;
  name: string;
  /** OTLP's SpanKind: 1 internal, 2 server, 3 client, 4 producer, 5 consumer. */
  kind: number;
  service: string;
  scope: string;
  startMs: number;
  endMs: number;
  attributes: Record<string, unknown>;
  /** Other spans this one refers to (a caller's own trace context, say), with their attributes. */
  links: Array<{ traceId: string; spanId: string; attributes: Record<string, unknown> }>;
  status: { code: number; message?: string };
}

export interface TraceReceiver {
  /** Base URL, for OTEL_EXPORTER_OTLP_ENDPOINT. */
  url: string;
  /** Every span kept, in arrival order. */
  spans(): ReceivedSpan[];
  trace(traceId: string): ReceivedSpan[];
  /** How many export requests came in, and how many were refused. */
  requests: { accepted: number; refused: number };
  close(): Promise<void>;
}

export interface TraceReceiverOptions {
  host?: string;
  /** 0 (the default) picks a free port. */
  port?: number;
  /** The most spans kept; the oldest go first. */
  maxSpans?: number;
  /** Called once per export request with the spans it carried. */
  onSpans?: (spans: ReceivedSpan[]) => void;
}

export async function startTraceReceiver(options: TraceReceiverOptions = {}): Promise<TraceReceiver> {
  const maxSpans = options.maxSpans ?? 100_000;
  let kept: ReceivedSpan[] = [];
  const requests = { accepted: 0, refused: 0 };
  const server = createServer((request, response) => {
    void handle(request, response).catch((error: unknown) => {
      requests.refused += 1;
      answer(response, 400, { error: error instanceof Error ? error.message : String(error) });
    });
  });

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://receiver');
    if (request.method === 'POST' && url.pathname === '/v1/traces') {
      const type = (request.headers['content-type'] ?? '').split(';')[0]!.trim();
      if (type !== 'application/json') {
        request.resume();
        requests.refused += 1;
        return answer(response, 415, { error: 'this receiver takes OTLP/HTTP JSON (application/json) only' });
      }
      const spans = decodeRequest(JSON.parse(await readBody(request)) as OtlpRequest);
      kept.push(...spans);
      if (kept.length > maxSpans) kept = kept.slice(kept.length - maxSpans);
      requests.accepted += 1;
      options.onSpans?.(spans);
      return answer(response, 200, { partialSuccess: {} });
    }
    if (request.method === 'GET' && url.pathname === '/api/traces') return answer(response, 200, summaries(kept));
    const one = /^\/api\/traces\/([0-9a-f]{32})$/.exec(url.pathname);
    if (request.method === 'GET' && one !== null) {
      const spans = kept.filter((span) => span.traceId === one[1]);
      if (url.searchParams.get('format') === 'tree') {
        response.writeHead(spans.length > 0 ? 200 : 404, { 'content-type': 'text/plain; charset=utf-8' });
        response.end(`${formatTrace(spans)}\n`);
        return;
      }
      return answer(response, spans.length > 0 ? 200 : 404, { traceId: one[1], spans });
    }
    request.resume();
    answer(response, 404, { error: 'not found' });
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const address = server.address() as AddressInfo;
  return {
    url: `http://${address.address}:${address.port}`,
    spans: () => [...kept],
    trace: (traceId) => kept.filter((span) => span.traceId === traceId),
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function answer(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json' });
  response.end(JSON.stringify(body));
}

function readBody(request: IncomingMessage, limit = 32 * 1_048_576): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        reject(new Error('the export request is too large'));
        request.destroy();
        return;
      }
      chunks.push(chunk);
    });
    request.once('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.once('error', reject);
  });
}

// OTLP's JSON encoding (trace service request): ids are hex strings, times nanoseconds as strings
// or numbers, attribute values one-of objects.
interface OtlpValue {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: string | number;
  doubleValue?: number;
  arrayValue?: { values?: OtlpValue[] };
  kvlistValue?: { values?: Array<{ key: string; value?: OtlpValue }> };
}
interface OtlpAttribute {
  key: string;
  value?: OtlpValue;
}
interface OtlpRequest {
  resourceSpans?: Array<{
    resource?: { attributes?: OtlpAttribute[] };
    scopeSpans?: Array<{
      scope?: { name?: string };
      spans?: Array<{
        traceId: string;
        spanId: string;
        parentSpanId?: string;
        name: string;
        kind?: number;
        startTimeUnixNano: string | number;
        endTimeUnixNano: string | number;
        attributes?: OtlpAttribute[];
        links?: Array<{ traceId: string; spanId: string; attributes?: OtlpAttribute[] }>;
        status?: { code?: number; message?: string };
      }>;
    }>;
  }>;
}

function decodeRequest(body: OtlpRequest): ReceivedSpan[] {
  const spans: ReceivedSpan[] = [];
  for (const resourceSpans of body.resourceSpans ?? []) {
    const resource = attributesOf(resourceSpans.resource?.attributes);
    const service = typeof resource['service.name'] === 'string' ? resource['service.name'] : 'unknown';
    for (const scopeSpans of resourceSpans.scopeSpans ?? []) {
      for (const span of scopeSpans.spans ?? []) {
        if (!/^[0-9a-f]{32}$/.test(span.traceId) || !/^[0-9a-f]{16}$/.test(span.spanId))
          throw new Error('trace and span ids must be hex (OTLP JSON)');
        const parent = span.parentSpanId ?? '';
        spans.push({
          traceId: span.traceId,
          spanId: span.spanId,
          ...(parent === '' ? {} : { parentSpanId: parent }),
          name: span.name,
          kind: span.kind ?? 0,
          service,
          scope: scopeSpans.scope?.name ?? '',
          startMs: nanosToMs(span.startTimeUnixNano),
          endMs: nanosToMs(span.endTimeUnixNano),
          attributes: attributesOf(span.attributes),
          links: (span.links ?? []).map((link) => ({
            traceId: link.traceId,
            spanId: link.spanId,
            attributes: attributesOf(link.attributes),
          })),
          status: {
            code: span.status?.code ?? 0,
            ...(span.status?.message === undefined ? {} : { message: span.status.message }),
          },
        });
      }
    }
  }
  return spans;
}

function nanosToMs(value: string | number): number {
  return Number(BigInt(value) / 1_000n) / 1_000;
}

function attributesOf(list: OtlpAttribute[] | undefined): Record<string, unknown> {
  return Object.fromEntries((list ?? []).map((a) => [a.key, valueOf(a.value)]));
}

function valueOf(value: OtlpValue | undefined): unknown {
  if (value === undefined) return undefined;
  if (value.stringValue !== undefined) return value.stringValue;
  if (value.boolValue !== undefined) return value.boolValue;
  if (value.intValue !== undefined) return Number(value.intValue);
  if (value.doubleValue !== undefined) return value.doubleValue;
  if (value.arrayValue !== undefined) return (value.arrayValue.values ?? []).map(valueOf);
  if (value.kvlistValue !== undefined)
    return Object.fromEntries((value.kvlistValue.values ?? []).map((kv) => [kv.key, valueOf(kv.value)]));
  return undefined;
}

function summaries(spans: ReceivedSpan[]) {
  const traces = new Map<string, ReceivedSpan[]>();
  for (const span of spans) {
    const trace = traces.get(span.traceId);
    if (trace === undefined) traces.set(span.traceId, [span]);
    else trace.push(span);
  }
  return [...traces.entries()].reverse().map(([traceId, list]) => {
    const ids = new Set(list.map((s) => s.spanId));
    const root = list.find((s) => s.parentSpanId === undefined || !ids.has(s.parentSpanId));
    const start = Math.min(...list.map((s) => s.startMs));
    const end = Math.max(...list.map((s) => s.endMs));
    return {
      traceId,
      root: root?.name,
      spans: list.length,
      services: [...new Set(list.map((s) => s.service))],
      durationMs: Math.round((end - start) * 10) / 10,
    };
  });
}

/**
 * One trace as a tree: each span under its parent, ordered by start, with its service, duration
 * and parent link. A span whose parent was not received (the edge's, which is never exported) is
 * shown at the top with `parent <id> (not received)`.
 */
export function formatTrace(spans: ReceivedSpan[]): string {
  if (spans.length === 0) return '(no spans)';
  const byParent = new Map<string, ReceivedSpan[]>();
  const ids = new Set(spans.map((s) => s.spanId));
  const roots: ReceivedSpan[] = [];
  for (const span of [...spans].sort((a, b) => a.startMs - b.startMs)) {
    if (span.parentSpanId === undefined || !ids.has(span.parentSpanId)) roots.push(span);
    else {
      const siblings = byParent.get(span.parentSpanId);
      if (siblings === undefined) byParent.set(span.parentSpanId, [span]);
      else siblings.push(span);
    }
  }
  const lines = [`trace ${spans[0]!.traceId}`];
  const walk = (span: ReceivedSpan, depth: number) => {
    const parent =
      span.parentSpanId === undefined
        ? 'root'
        : ids.has(span.parentSpanId)
          ? `parent ${span.parentSpanId}`
          : `parent ${span.parentSpanId} (not received)`;
    const failed = span.status.code === 2 ? ' ERROR' : '';
    lines.push(
      `${'  '.repeat(depth + 1)}${span.name} [${span.service}] ${(span.endMs - span.startMs).toFixed(1)} ms  span ${span.spanId} ${parent}${failed}`,
    );
    for (const child of byParent.get(span.spanId) ?? []) walk(child, depth + 1);
  };
  for (const root of roots) walk(root, 0);
  return lines.join('\n');
}
