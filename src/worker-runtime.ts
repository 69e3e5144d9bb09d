// Builds the workers from a loaded config: one connection, the workflow bundle made once and
// shared, one Worker per configured task queue, activities from createActivities(deps).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { bundleWorkflowCode, NativeConnection, Worker, type WorkflowBundleOption, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import type { EntityJson } from '@cedar-policy/cedar-wasm/nodejs';
import { createActivities } from '../activities/index.js';
import { createPolicyEngine, type PolicyEngine } from '../activities/policy.js';
import { configPath, type GatehouseConfig } from './config/load-config.js';

export const workflowsPath = fileURLToPath(new URL('../workflows/index.ts', import.meta.url));

/** Webpack runs here, once per process; every worker of the process shares the result. */
export function bundleWorkflows(): Promise<WorkflowBundleWithSourceMap> {
  return bundleWorkflowCode({ workflowsPath, logger: quietBundlerLogger });
}

export function loadPolicyEngine(config: GatehouseConfig): PolicyEngine {
  const policies = readFileSync(configPath(config, config.policy.policies), 'utf8');
  const entities = config.policy.entities === undefined
    ? []
    : (JSON.parse(readFileSync(configPath(config, config.policy.entities), 'utf8')) as EntityJson[]);
  return createPolicyEngine(policies, entities);
}

export interface WorkerSet {
  connection: NativeConnection;
  workers: Worker[];
  /** Runs every worker until shutdown() or a signal; rejects if one of them fails. */
  run(): Promise<void>;
  shutdown(): void;
}

export async function createWorkers(
  config: GatehouseConfig,
  options: { bundle?: WorkflowBundleOption; taskQueues?: string[]; handleSignals?: boolean } = {},
): Promise<WorkerSet> {
  const policyEngine = loadPolicyEngine(config);
  const bundle = options.bundle ?? (await bundleWorkflows());
  const connection = await NativeConnection.connect({ address: config.temporal.address });
  const activities = createActivities({ policyEngine });
  const workers = await Promise.all(
    (options.taskQueues ?? config.taskQueues).map((taskQueue) =>
      Worker.create({
        connection,
        namespace: config.temporal.namespace,
        taskQueue,
        workflowBundle: bundle,
        activities,
        ...(options.handleSignals === false ? { shutdownSignals: [] } : {}),
      }),
    ),
  );
  return {
    connection,
    workers,
    async run() {
      try {
        await Promise.all(workers.map((worker) => worker.run()));
      } finally {
        await connection.close();
      }
    },
    shutdown() {
      for (const worker of workers) {
        if (worker.getState() === 'RUNNING') worker.shutdown();
      }
    },
  };
}

const quietBundlerLogger = {
  log() {}, trace() {}, debug() {}, info() {},
  warn(message: string, meta?: object) { console.warn(message, meta ?? ''); },
  error(message: string, meta?: object) { console.error(message, meta ?? ''); },
};
