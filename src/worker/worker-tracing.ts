// Tracing in the worker, with Temporal's OpenTelemetry interceptors, when the process traces
// (src/telemetry/tracing.ts):
// - workflows: the interceptor module is bundled into the workflow code (bundle-workflows.ts), so
//   each run makes a RunWorkflow span (the child of the bridge's StartWorkflow span, whose context
//   the start carried in its headers) and a StartActivity span per activity it schedules, passing
//   that context on in the activity's headers. The sandbox cannot export: its spans come out
//   through the `exporter` sink, once (not again on replay), into this process's span processor.
// - activities: a RunActivity span per attempt, the child of its StartActivity span, active while
//   the activity runs, so the activities' own spans (activities/tracing.ts) hang under it; and
//   trace_id/span_id on the activity's log lines.
// The sink gets the workflow's info with every call; the SDK's own exporter would copy all of it
// onto each span, memo included (the job's identity and request), so only ids are passed on.
import { createRequire } from 'node:module';
import type { ActivityInterceptorsFactory, InjectedSinks } from '@temporalio/worker';
import type { WorkflowInfo } from '@temporalio/workflow';
import type { OpenTelemetrySinks } from '@temporalio/interceptors-opentelemetry/lib/workflow/definitions.js';
import type { Tracing } from '../telemetry/tracing.js';

/** The workflow interceptors, for the bundler's workflowInterceptorModules. */
export const workflowTracingModule = createRequire(import.meta.url).resolve(
  '@temporalio/interceptors-opentelemetry/lib/workflow-interceptors',
);

export interface WorkerTracing {
  activity: ActivityInterceptorsFactory[];
  sinks: InjectedSinks<OpenTelemetrySinks>;
}

/** What Worker.create needs for tracing, or undefined when the process does not trace. */
export async function workerTracing(tracing: Tracing | undefined): Promise<WorkerTracing | undefined> {
  if (tracing?.enabled !== true || tracing.spanProcessor === undefined || tracing.resource === undefined)
    return undefined;
  const otel = await import('@temporalio/interceptors-opentelemetry/lib/worker/index.js');
  const exporter = otel.makeWorkflowExporter(tracing.spanProcessor, tracing.resource).export;
  return {
    activity: [
      (ctx) => ({
        inbound: new otel.OpenTelemetryActivityInboundInterceptor(ctx),
        outbound: new otel.OpenTelemetryActivityOutboundInterceptor(ctx),
      }),
    ],
    sinks: {
      exporter: {
        export: {
          fn: (info, spans) => exporter.fn(workflowIds(info), spans),
          callDuringReplay: false,
        },
      },
    },
  };
}

/** The ids a workflow span carries (as attributes), and nothing of the memo or search attributes. */
function workflowIds(info: WorkflowInfo): WorkflowInfo {
  const ids = {
    workflowId: info.workflowId,
    runId: info.runId,
    workflowType: info.workflowType,
    taskQueue: info.taskQueue,
    namespace: info.namespace,
    attempt: info.attempt,
  };
  // The SDK's sink copies every own field of `info` onto the span; these are all it gets.
  return ids as WorkflowInfo;
}
