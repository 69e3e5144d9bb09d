// Which environment turns tracing on, and what it sends where; and the trace-context rule the
// bridge shares with the edge.
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/config/load-config.js';
import { parseTraceparent } from '../../../src/core/trace-context.js';
import { startTracing, tracingSettings } from '../../../src/telemetry/tracing.js';

describe('tracingSettings', () => {
  it('is off without an OTLP endpoint, and when the SDK or the exporter is turned off', async () => {
    expect(tracingSettings({}, 'gatehouse-bridge')).toBeUndefined();
    expect(tracingSettings({ OTEL_SERVICE_NAME: 'x', OTEL_EXPORTER_OTLP_ENDPOINT: '' }, 'b')).toBeUndefined();
    const endpoint = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' };
    expect(tracingSettings({ ...endpoint, OTEL_SDK_DISABLED: 'true' }, 'b')).toBeUndefined();
    expect(tracingSettings({ ...endpoint, OTEL_TRACES_EXPORTER: 'none' }, 'b')).toBeUndefined();
    expect((await startTracing({}, { serviceName: 'b' })).enabled).toBe(false);
  });

  it('sends to <endpoint>/v1/traces, or to the traces endpoint as given', () => {
    expect(tracingSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/' }, 'b')?.tracesUrl).toBe(
      'http://collector:4318/v1/traces',
    );
    expect(
      tracingSettings(
        {
          OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318',
          OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://traces.example/otlp/traces',
        },
        'b',
      )?.tracesUrl,
    ).toBe('https://traces.example/otlp/traces');
  });

  it('names the service from OTEL_SERVICE_NAME or the default, and reads resource attributes', () => {
    const endpoint = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' };
    expect(tracingSettings(endpoint, 'gatehouse-worker')?.serviceName).toBe('gatehouse-worker');
    expect(tracingSettings({ ...endpoint, OTEL_SERVICE_NAME: 'ci-worker' }, 'gatehouse-worker')?.serviceName).toBe(
      'ci-worker',
    );
    expect(
      tracingSettings({ ...endpoint, OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment=prod,team=a%2Cb,broken' }, 'b')
        ?.resourceAttributes,
    ).toEqual({ 'deployment.environment': 'prod', team: 'a,b' });
  });

  it('refuses what it cannot do at start-up, naming the variable', () => {
    const endpoint = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4317' };
    const problems = (env: NodeJS.ProcessEnv) => {
      try {
        tracingSettings(env, 'b');
        return [];
      } catch (error) {
        expect(error).toBeInstanceOf(ConfigError);
        return (error as ConfigError).problems;
      }
    };
    expect(problems({ ...endpoint, OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' })).toEqual([
      expect.stringMatching(/^OTEL_EXPORTER_OTLP_PROTOCOL: .*grpc/),
    ]);
    expect(problems({ ...endpoint, OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'grpc' })[0]).toMatch(
      /^OTEL_EXPORTER_OTLP_TRACES_PROTOCOL/,
    );
    expect(problems({ ...endpoint, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf' })).toEqual([]);
    expect(problems({ ...endpoint, OTEL_TRACES_EXPORTER: 'zipkin' })[0]).toMatch(/^OTEL_TRACES_EXPORTER/);
    expect(problems({ OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' })[0]).toMatch(/^OTEL_EXPORTER_OTLP_ENDPOINT/);
  });
});

describe('parseTraceparent', () => {
  const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
  const spanId = '00f067aa0ba902b7';

  it('reads a version-00 header', () => {
    expect(parseTraceparent(`00-${traceId}-${spanId}-01`)).toEqual({ traceId, parentId: spanId, flags: '01' });
  });

  it.each([
    undefined,
    ['a', 'b'],
    `00-${traceId.toUpperCase()}-${spanId}-01`,
    `00-${'0'.repeat(32)}-${spanId}-01`,
    `00-${traceId}-${'0'.repeat(16)}-01`,
    `01-${traceId}-${spanId}-01`,
    `00-${traceId}-${spanId}-01-more`,
    ` 00-${traceId}-${spanId}-01`,
  ])('refuses %j', (value) => {
    expect(parseTraceparent(value)).toBeUndefined();
  });
});
