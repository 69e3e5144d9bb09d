// Workflow spans leave the sandbox through the `exporter` sink with the workflow's info; only its
// ids may reach the span, never the memo (the job's identity and request) or search attributes.
import { Resource } from '@opentelemetry/resources';
import type { ReadableSpan, SpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { WorkflowInfo } from '@temporalio/workflow';
import type { SerializableSpan } from '@temporalio/interceptors-opentelemetry/lib/workflow/definitions.js';
import { describe, expect, it } from 'vitest';
import { workerTracing } from '../../../src/worker/worker-tracing.js';

describe('workerTracing', () => {
  it('is nothing when the process does not trace', async () => {
    expect(await workerTracing(undefined)).toBeUndefined();
    expect(
      await workerTracing({ enabled: false, forceFlush: async () => {}, shutdown: async () => {} }),
    ).toBeUndefined();
  });

  it('hands workflow spans to the span processor with the workflow ids and nothing of the memo', async () => {
    const ended: ReadableSpan[] = [];
    const processor = { onEnd: (span: ReadableSpan) => ended.push(span) } as unknown as SpanProcessor;
    const tracing = await workerTracing({
      enabled: true,
      spanProcessor: processor,
      resource: new Resource({ 'service.name': 'gatehouse-worker' }),
      forceFlush: async () => {},
      shutdown: async () => {},
    });
    const info = {
      workflowId: 'ci.abc',
      runId: 'run-1',
      workflowType: 'ciPipeline',
      taskQueue: 'gatehouse-ci',
      namespace: 'default',
      attempt: 1,
      memo: { identity: { principal: 'jwt:issuer#alice', email: 'alice@example.test' } },
      searchAttributes: { GatehouseOwner: ['jwt:issuer#alice'] },
    } as unknown as WorkflowInfo;
    const span = {
      name: 'RunWorkflow:ciPipeline',
      kind: 0,
      spanContext: { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', traceFlags: 1 },
      startTime: [1, 0],
      endTime: [2, 0],
      status: { code: 1 },
      attributes: {},
      links: [],
      events: [],
      duration: [1, 0],
      ended: true,
      droppedAttributesCount: 0,
      droppedLinksCount: 0,
      droppedEventsCount: 0,
      instrumentationLibrary: { name: '@temporalio/interceptor-workflow' },
    } as unknown as SerializableSpan;
    expect(tracing?.sinks.exporter.export.callDuringReplay).toBe(false);
    await tracing!.sinks.exporter.export.fn(info, [span]);
    expect(ended).toHaveLength(1);
    expect(ended[0]!.attributes).toEqual({
      workflowId: 'ci.abc',
      runId: 'run-1',
      workflowType: 'ciPipeline',
      taskQueue: 'gatehouse-ci',
      namespace: 'default',
      attempt: 1,
    });
    expect(ended[0]!.spanContext().traceId).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    expect(ended[0]!.resource.attributes['service.name']).toBe('gatehouse-worker');
  });
});
