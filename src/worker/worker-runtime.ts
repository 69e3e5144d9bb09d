// Builds the workers of one process from a loaded config: one connection, one workflow bundle, one
// Worker per task queue it is told to poll, each registering only the activity groups that the
// workflows of its queue's routes call (src/core/workflow-catalog.ts): what a queue's worker can do
// and which secrets it holds. A queue that delivers completion callbacks gets a second,
// activity-only Worker on its callbacks queue (callbackPostQueue), with callbacks.maxConcurrent
// slots of its own: a receiver that never answers holds those, never the slots policy and CI
// activities need. With tracing on, workflows and activities get Temporal's OpenTelemetry
// interceptors (worker-tracing.ts).
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker, type WorkflowBundleOption } from '@temporalio/worker';
import { createActivities } from '../../activities/index.js';
import { callbackPostQueue } from '../core/callbacks.js';
import { workflowCatalog, type ActivityGroup, type WorkflowType } from '../core/workflow-catalog.js';
import { deliversCallbacks } from '../config/callbacks.js';
import { ConfigError, type GatehouseConfig } from '../config/load-config.js';
import { durationMs } from '../config/duration.js';
import { temporalConnectionOptions } from '../config/temporal-connection.js';
import { createTemporalGateway, type TemporalGateway } from '../temporal/gateway.js';
import { buildActivityDeps } from './activity-deps.js';
import { bundleWorkflows } from './bundle-workflows.js';
import { reconcileSchedules, reconcileWorkflowType, upsertReconcileSchedules } from './reconcile-schedules.js';
import type { Tracing } from '../telemetry/tracing.js';
import { workerTracing } from './worker-tracing.js';

export interface WorkerSet {
  connection: NativeConnection;
  workers: Worker[];
  /** Runs every worker until shutdown() or a signal; rejects if one of them fails. */
  run(): Promise<void>;
  shutdown(): void;
}

export interface WorkerOptions {
  /** The queues to poll; default every queue in the config. */
  taskQueues?: string[];
  /**
   * The workflow bundle: a prebuilt one (`npm run build` writes them, bundle-workflows.ts; the
   * tests make one per run). Absent, the workflows are bundled now, from the sources: slow, and
   * the process keeps much of what the bundler allocated (`npm run worker` from the sources only).
   */
  bundle?: WorkflowBundleOption;
  /** The process's tracing; when on, a prebuilt `bundle` must hold the tracing interceptors. */
  tracing?: Tracing;
  handleSignals?: boolean;
  env?: NodeJS.ProcessEnv;
}

/** The SDK's options for a job queue's Worker from `worker` in the config; unset keys keep the SDK's defaults. */
export function workerTuning(config: GatehouseConfig): {
  maxCachedWorkflows?: number;
  maxConcurrentWorkflowTaskExecutions?: number;
  maxConcurrentActivityTaskExecutions?: number;
} {
  const { cachedWorkflows, workflowTaskSlots, activitySlots } = config.worker;
  return {
    ...(cachedWorkflows === undefined ? {} : { maxCachedWorkflows: cachedWorkflows }),
    ...(workflowTaskSlots === undefined ? {} : { maxConcurrentWorkflowTaskExecutions: workflowTaskSlots }),
    ...(activitySlots === undefined ? {} : { maxConcurrentActivityTaskExecutions: activitySlots }),
  };
}

/** What one task queue needs: the workflow types of its routes and their activity groups. */
export function queuePlan(
  config: GatehouseConfig,
  taskQueue: string,
): { workflowTypes: WorkflowType[]; groups: Set<ActivityGroup> } {
  const workflowTypes = [
    ...new Set([
      ...Object.values(config.routes)
        .filter((route) => route.taskQueue === taskQueue)
        .map((route) => route.workflowType as WorkflowType),
      ...(taskQueue === config.webhooks.reconciler.taskQueue && reconcileSchedules(config).length > 0
        ? [reconcileWorkflowType]
        : []),
      ...(deliversCallbacks(config, taskQueue) ? (['deliverCallback'] as const) : []),
    ]),
  ];
  const groups = new Set<ActivityGroup>(workflowTypes.flatMap((type) => workflowCatalog[type]));
  return { workflowTypes, groups };
}

/** How long activities in flight may run on after a worker is told to stop. */
const workerShutdownGrace = '30 seconds';

export async function createWorkers(config: GatehouseConfig, options: WorkerOptions = {}): Promise<WorkerSet> {
  const queues = options.taskQueues ?? config.taskQueues;
  const unknown = queues.filter((queue) => !config.taskQueues.includes(queue));
  if (unknown.length > 0)
    throw new ConfigError(config.source, [
      `/taskQueues: ${unknown.join(', ')} is not configured (known: ${config.taskQueues.join(', ')})`,
    ]);
  const plans = new Map(queues.map((queue) => [queue, queuePlan(config, queue)]));
  const allGroups = new Set([...plans.values()].flatMap((plan) => [...plan.groups]));
  const tracing = await workerTracing(options.tracing);
  const bundle = options.bundle ?? (await bundleWorkflows({ tracing: tracing !== undefined }));
  const built = await buildActivityDeps(config, allGroups, options.env ?? {});
  const connection = await NativeConnection.connect(temporalConnectionOptions(config)).catch(async (error: unknown) => {
    await built.close();
    throw error;
  });
  const common = {
    connection,
    namespace: config.temporal.namespace,
    ...(tracing === undefined ? {} : { interceptors: { activity: tracing.activity }, sinks: tracing.sinks }),
    // On SIGTERM (a rolling update) activities in flight get this long to finish before they are
    // cancelled; a cancelled one is retried on another worker (CI steps resume after their last
    // heartbeat). Deployments give workers a longer termination grace period than this.
    shutdownGraceTime: workerShutdownGrace,
    ...(options.handleSignals === false ? { shutdownSignals: [] } : {}),
  };
  const jobWorkers = [...plans].map(async ([taskQueue, plan]) => {
    const groupDeps = Object.fromEntries([...plan.groups].map((group) => [group, built.deps[group]]));
    return Worker.create({
      ...common,
      taskQueue,
      workflowBundle: bundle,
      // The callback group stays here too: readJobClose, and the attempts of callbacks that started
      // before their own queue existed (their histories schedule them on this queue).
      activities: await createActivities(groupDeps),
      ...workerTuning(config),
      // CI steps heartbeat the steps they completed, and a retry after a crash resumes after them:
      // a heartbeat must reach Temporal within a second, not the SDK's default of 0.8 × the
      // heartbeat timeout, or a step finished just before a crash runs again.
      ...(plan.groups.has('ci') ? { maxHeartbeatThrottleInterval: '1 second' } : {}),
    });
  });
  // The same callback activities (one circuit breaker per process), on slots of their own.
  const callbackWorkers = [...plans]
    .filter(([, plan]) => plan.groups.has('callback'))
    .map(async ([taskQueue]) =>
      Worker.create({
        ...common,
        taskQueue: callbackPostQueue(taskQueue),
        activities: await createActivities({ callback: built.deps.callback! }),
        maxConcurrentActivityTaskExecutions: config.callbacks.maxConcurrent,
      }),
    );
  const workers = await Promise.all([...jobWorkers, ...callbackWorkers]);
  if (plans.get(config.webhooks.reconciler.taskQueue)?.groups.has('reconcile')) {
    await withGateway(config, (temporal) => upsertReconcileSchedules(temporal, config)).catch(
      async (error: unknown) => {
        await connection.close();
        await built.close();
        throw error;
      },
    );
  }
  return {
    connection,
    workers,
    async run() {
      try {
        await Promise.all(workers.map((worker) => worker.run()));
      } finally {
        await connection.close();
        await built.close();
      }
    },
    shutdown() {
      for (const worker of workers) {
        if (worker.getState() === 'RUNNING') worker.shutdown();
      }
    },
  };
}

/** A short-lived client for start-up work the worker's native connection cannot do (schedules). */
async function withGateway<T>(config: GatehouseConfig, use: (temporal: TemporalGateway) => Promise<T>): Promise<T> {
  const connection = await Connection.connect(temporalConnectionOptions(config));
  try {
    const { namespace, requestTimeout } = config.temporal;
    const client = new Client({ connection, namespace });
    return await use(createTemporalGateway(client, { namespace, requestTimeoutMs: durationMs(requestTimeout) }));
  } finally {
    await connection.close();
  }
}
