// Tracing for one process, the bridge or a worker, configured by the standard OTEL_* variables.
// Why it works as it does: docs/observability.md, "How tracing is set up in a process".
import type { SpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { Resource } from '@opentelemetry/resources';
import { ConfigError } from '../config/load-config.js';

/** Every variable this module or the SDK under it reads (documented in docs/observability.md). */
export const tracingVariables = [
  'OTEL_EXPORTER_OTLP_ENDPOINT',
  'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT',
  'OTEL_EXPORTER_OTLP_PROTOCOL',
  'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL',
  'OTEL_EXPORTER_OTLP_HEADERS',
  'OTEL_EXPORTER_OTLP_TRACES_HEADERS',
  'OTEL_EXPORTER_OTLP_TIMEOUT',
  'OTEL_EXPORTER_OTLP_COMPRESSION',
  'OTEL_SERVICE_NAME',
  'OTEL_RESOURCE_ATTRIBUTES',
  'OTEL_SDK_DISABLED',
  'OTEL_TRACES_EXPORTER',
  'OTEL_TRACES_SAMPLER',
  'OTEL_TRACES_SAMPLER_ARG',
  'OTEL_PROPAGATORS',
  'OTEL_BSP_SCHEDULE_DELAY',
  'OTEL_BSP_MAX_QUEUE_SIZE',
  'OTEL_BSP_MAX_EXPORT_BATCH_SIZE',
  'OTEL_BSP_EXPORT_TIMEOUT',
] as const;

export interface TracingSettings {
  /** Where spans are POSTed (OTLP/HTTP, JSON). */
  tracesUrl: string;
  serviceName: string;
  resourceAttributes: Record<string, string>;
}

/** What the environment asks for: settings when tracing is on, undefined when it is off. */
export function tracingSettings(env: NodeJS.ProcessEnv, defaultServiceName: string): TracingSettings | undefined {
  const value = (name: string) => {
    const v = env[name]?.trim();
    return v === undefined || v === '' ? undefined : v;
  };
  if (value('OTEL_SDK_DISABLED')?.toLowerCase() === 'true') return undefined;
  if (value('OTEL_TRACES_EXPORTER')?.toLowerCase() === 'none') return undefined;
  const problems: string[] = [];
  const exporter = value('OTEL_TRACES_EXPORTER')?.toLowerCase();
  if (exporter !== undefined && exporter !== 'otlp')
    problems.push(`OTEL_TRACES_EXPORTER: only otlp (or none) is supported, not "${exporter}"`);
  const protocolName = value('OTEL_EXPORTER_OTLP_TRACES_PROTOCOL')
    ? 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL'
    : 'OTEL_EXPORTER_OTLP_PROTOCOL';
  const protocol = value(protocolName);
  if (protocol !== undefined && protocol !== 'http/json' && protocol !== 'http/protobuf')
    problems.push(`${protocolName}: spans are sent over HTTP (http/json or http/protobuf), not "${protocol}"`);
  const signal = value('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT');
  const base = value('OTEL_EXPORTER_OTLP_ENDPOINT');
  const tracesUrl = signal ?? (base === undefined ? undefined : `${base.replace(/\/+$/, '')}/v1/traces`);
  if (tracesUrl === undefined) {
    if (problems.length > 0) throw new ConfigError('environment', problems);
    return undefined;
  }
  const name = signal === undefined ? 'OTEL_EXPORTER_OTLP_ENDPOINT' : 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT';
  try {
    const url = new URL(tracesUrl);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') problems.push(`${name}: expected an http(s) URL`);
  } catch {
    problems.push(`${name}: expected an http(s) URL`);
  }
  if (problems.length > 0) throw new ConfigError('environment', problems);
  return {
    tracesUrl,
    serviceName: value('OTEL_SERVICE_NAME') ?? defaultServiceName,
    resourceAttributes: resourceAttributes(value('OTEL_RESOURCE_ATTRIBUTES')),
  };
}

/** `key=value,key=value`, values percent-encoded (the specification's format); bad pairs are skipped. */
function resourceAttributes(text: string | undefined): Record<string, string> {
  const attributes: Record<string, string> = {};
  for (const pair of (text ?? '').split(',')) {
    const at = pair.indexOf('=');
    if (at <= 0) continue;
    try {
      attributes[decodeURIComponent(pair.slice(0, at).trim())] = decodeURIComponent(pair.slice(at + 1).trim());
    } catch {
      // not percent-decodable: skipped, as the specification allows
    }
  }
  return attributes;
}

export interface Tracing {
  readonly enabled: boolean;
  readonly settings?: TracingSettings;
  /** The provider's span processor: the worker hands workflow spans (from the sandbox) to it. */
  readonly spanProcessor?: SpanProcessor;
  readonly resource?: Resource;
  /** Exports every span ended so far. */
  forceFlush(): Promise<void>;
  /** Exports what is left and unregisters the provider (a process may start tracing again). */
  shutdown(): Promise<void>;
}

export const tracingOff: Tracing = {
  enabled: false,
  async forceFlush() {},
  async shutdown() {},
};

export interface StartTracingOptions {
  /** The service name when OTEL_SERVICE_NAME is not set. */
  serviceName: string;
  /** Where the SDK's own warnings (a failed export) go; at most one a minute. */
  warn?: (message: string) => void;
}

/** Starts tracing for this process when the environment asks for it; `tracingOff` otherwise. */
export async function startTracing(env: NodeJS.ProcessEnv, options: StartTracingOptions): Promise<Tracing> {
  const settings = tracingSettings(env, options.serviceName);
  if (settings === undefined) return tracingOff;
  // Loaded only now: a process with tracing off never loads the SDK.
  const [api, { Resource }, { BatchSpanProcessor }, { NodeTracerProvider }, { OTLPTraceExporter }, semconv, core] =
    await Promise.all([
      import('@opentelemetry/api'),
      import('@opentelemetry/resources'),
      import('@opentelemetry/sdk-trace-base'),
      import('@opentelemetry/sdk-trace-node'),
      import('@opentelemetry/exporter-trace-otlp-http'),
      import('@opentelemetry/semantic-conventions'),
      import('@opentelemetry/core'),
    ]);
  if (options.warn !== undefined) {
    const warn = options.warn;
    let last = 0;
    const limited = (message: string, ...args: unknown[]) => {
      const now = Date.now();
      if (now - last < 60_000) return;
      last = now;
      warn(`tracing: ${[message, ...args.map((a) => (a instanceof Error ? a.message : String(a)))].join(' ')}`);
    };
    api.diag.setLogger(
      { error: limited, warn: limited, info: () => {}, debug: () => {}, verbose: () => {} },
      api.DiagLogLevel.WARN,
    );
  }
  const resource = new Resource({
    ...Resource.default().attributes,
    ...settings.resourceAttributes,
    [semconv.ATTR_SERVICE_NAME]: settings.serviceName,
  });
  const spanProcessor = new BatchSpanProcessor(new OTLPTraceExporter({ url: settings.tracesUrl }));
  const provider = new NodeTracerProvider({ resource, spanProcessors: [spanProcessor] });
  // Trace context only: a caller's `baggage` (W3C Baggage, the SDK's other default) would be
  // carried into every workflow's and activity's headers in Temporal and onto Argo requests.
  provider.register({ propagator: new core.W3CTraceContextPropagator() });
  return {
    enabled: true,
    settings,
    spanProcessor,
    resource,
    forceFlush: () => provider.forceFlush(),
    async shutdown() {
      await provider.shutdown();
      api.trace.disable();
      api.context.disable();
      api.propagation.disable();
      api.diag.disable();
    },
  };
}
