// Builds the workers from a loaded config: one connection, the workflow bundle made once and
// shared, one Worker per configured task queue, activities from createActivities(deps).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode, NativeConnection, Worker, type WorkflowBundleOption, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import type { EntityJson } from '@cedar-policy/cedar-wasm/nodejs';
import { createActivities, type ActivityDeps } from '../activities/index.js';
import { createPolicyEngine, type PolicyEngine } from '../activities/policy.js';
import { durationMs } from './config/duration.js';
import { ConfigError, configPath, type GatehouseConfig } from './config/load-config.js';
import { webhookProviders } from './config/schema.js';
import { resolveSecret, type SecretRef } from './config/secrets.js';
import { openLedger } from './ledger/open-ledger.js';
import { cancelSupersededRuns } from './temporal/cancel-superseded.js';

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
  const schema = config.policy.schema === undefined ? undefined : readFileSync(configPath(config, config.policy.schema), 'utf8');
  return createPolicyEngine(policies, entities, schema);
}

/** The activities' dependencies from the config: ledger, CI plans, status APIs, Argo. */
export async function activityDeps(config: GatehouseConfig, env: NodeJS.ProcessEnv = {}): Promise<{ deps: ActivityDeps; close(): Promise<void> }> {
  // Secrets first: a missing token is a config error (exit 2, naming the path), found before
  // anything is opened.
  const { ci } = config;
  const problems: string[] = [];
  const secret = (ref: SecretRef | undefined, at: string) => {
    if (ref === undefined) return undefined;
    const value = resolveSecret(ref, env, (p) => configPath(config, p));
    if (typeof value !== 'string') return value;
    problems.push(`${at}: ${value}`);
    return undefined;
  };
  const statusApis: ActivityDeps['statusApis'] = {};
  for (const provider of webhookProviders) {
    const api = ci.statusApis[provider];
    const token = api === undefined ? undefined : secret(api.token, `/ci/statusApis/${provider}/token`);
    if (api !== undefined && token !== undefined) statusApis[provider] = { apiUrl: api.apiUrl, token };
  }
  const argoToken = secret(ci.argo?.token, '/ci/argo/token');
  if (problems.length > 0) throw new ConfigError(config.source, problems);
  const ledger = await openLedger(config);
  // Activities that act on other workflows (superseded CI runs) use a client of their own.
  const temporalConnection = Connection.lazy({ address: config.temporal.address });
  const temporal = new Client({ connection: temporalConnection, namespace: config.temporal.namespace });
  const deps: ActivityDeps = {
    policyEngine: loadPolicyEngine(config),
    ledger: ledger.db,
    adminGroups: config.admins.groups,
    statusApis,
    argo: { url: ci.argo?.url ?? 'http://127.0.0.1:2745', ...(argoToken === undefined ? {} : { token: argoToken }) },
    ci: {
      cancelSuperseded: (input) => cancelSupersededRuns(temporal, input),
      scratchDir: configPath(config, ci.scratchDir),
      outputLimitBytes: ci.outputLimitBytes,
      pipelines: ci.pipelines.map((pipeline) => ({
        repositories: pipeline.repositories,
        plan: {
          runner: pipeline.runner,
          statusContext: ci.statusContext,
          publicUrl: ci.publicUrl,
          heartbeatTimeoutMs: 10_000,
          argoPollIntervalMs: durationMs(ci.argo?.pollInterval ?? '10s'),
          cancelSuperseded: ci.cancelSuperseded,
          ...(pipeline.steps === undefined ? {} : {
            steps: pipeline.steps.map((step) => ({ name: step.name, run: step.run, timeoutMs: durationMs(step.timeout ?? '10m') })),
          }),
          ...(pipeline.argo === undefined ? {} : { argo: pipeline.argo }),
        },
      })),
    },
  };
  return { deps, close: async () => { await ledger.close(); await temporalConnection.close(); } };
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
  options: { bundle?: WorkflowBundleOption; taskQueues?: string[]; handleSignals?: boolean; env?: NodeJS.ProcessEnv } = {},
): Promise<WorkerSet> {
  const built = await activityDeps(config, options.env);
  const bundle = options.bundle ?? (await bundleWorkflows());
  const connection = await NativeConnection.connect({ address: config.temporal.address });
  const activities = createActivities(built.deps);
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

const quietBundlerLogger = {
  log() {}, trace() {}, debug() {}, info() {},
  warn(message: string, meta?: object) { console.warn(message, meta ?? ''); },
  error(message: string, meta?: object) { console.error(message, meta ?? ''); },
};
