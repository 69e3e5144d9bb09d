// The activities' dependencies from the config, built only for the activity groups a worker needs:
// the Cedar engine, the ledger, the CI plans, the status-API and Argo tokens. Secrets first: a
// missing token is a ConfigError (exit 2, naming the path), found before anything is opened. What
// a group needs is loaded only when that group is built (Cedar's WebAssembly, the ledger's driver,
// the Octokit clients), so a worker holds the libraries of its own queues and no others.
import { Client, Connection } from '@temporalio/client';
import type { ActivityDeps } from '../../activities/index.js';
import type { AccessRules } from '../core/access.js';
import { ciStepSignalName } from '../core/ci-status.js';
import type { Secret } from '../core/secret.js';
import type { ActivityGroup } from '../core/workflow-catalog.js';
import { callbackRetry, compileReceivers } from '../config/callbacks.js';
import { cloneUrlFor } from '../config/clone-url.js';
import { durationMs } from '../config/duration.js';
import { configPath, type GatehouseConfig } from '../config/load-config.js';
import { temporalConnectionOptions } from '../config/temporal-connection.js';
import { resolveWorkerSecrets, type WorkerSecrets } from '../config/worker-secrets.js';
import { createTemporalGateway, type TemporalGateway } from '../temporal/gateway.js';
import { readJob } from '../temporal/read-job.js';
import { openDeliveryLog } from '../deliveries/open-delivery-log.js';
import type { HookApiClient } from '../providers/reconciler.js';
import { providerNames, reconcilerOf } from '../providers/registry.js';
import type { ReconcileDeps } from '../../activities/reconcile.js';
import { HostBreaker } from '../../activities/host-breaker.js';
import { cancelSupersededRuns } from './cancel-superseded.js';
import { prepareCiSandbox } from './ci-sandbox.js';
import { saveReconcileState } from './reconcile-schedules.js';
import { reportConnectionLoss } from './report-connection-loss.js';

export interface BuiltDeps {
  deps: Partial<ActivityDeps>;
  close(): Promise<void>;
}

export async function buildActivityDeps(
  config: GatehouseConfig,
  groups: ReadonlySet<ActivityGroup>,
  env: NodeJS.ProcessEnv,
): Promise<BuiltDeps> {
  const secrets = resolveWorkerSecrets(config, env, {
    statusApis: groups.has('commitStatus'),
    argo: groups.has('argo'),
    reconcile: groups.has('reconcile'),
    callback: groups.has('callback'),
    ledger: groups.has('billing'),
  });
  const rules: AccessRules = { adminGroups: config.admins.groups };
  const closers: Array<() => Promise<void>> = [];
  const deps: Partial<ActivityDeps> = {};
  if (groups.has('policy')) {
    const { loadPolicyEngine } = await import('./policy-engine.js');
    deps.policy = { engine: loadPolicyEngine(config), rules };
  }
  if (groups.has('commitStatus'))
    deps.commitStatus = { apis: secrets.statusApis, timeoutMs: durationMs(config.ci.statusTimeout) };
  if (groups.has('argo'))
    deps.argo = {
      url: config.ci.argo.url,
      fetchTimeoutMs: durationMs(config.ci.argo.requestTimeout),
      ...(secrets.argoToken === undefined ? {} : { token: secrets.argoToken }),
    };
  if (groups.has('billing')) {
    const { openLedger } = await import('./open-ledger.js');
    const ledger = await openLedger(
      secrets.ledgerUrl === undefined ? config : { ...config, ledgerUrl: secrets.ledgerUrl },
      { onConnectionLost: reportConnectionLoss('ledger') },
    );
    closers.push(() => ledger.close());
    deps.billing = { ledger: ledger.db, rules };
  }
  // Activities that act on other workflows or schedules use a client of their own.
  let gateway: TemporalGateway | undefined;
  const temporalGateway = () => {
    if (gateway === undefined) {
      const connection = Connection.lazy(temporalConnectionOptions(config));
      closers.push(() => connection.close());
      const client = new Client({ connection, namespace: config.temporal.namespace });
      const { namespace, requestTimeout } = config.temporal;
      gateway = createTemporalGateway(client, { namespace, requestTimeoutMs: durationMs(requestTimeout) });
    }
    return gateway;
  };
  if (groups.has('reconcile')) {
    const reconcile: ReconcileDeps = {
      clients: await connectReconcilers(config, secrets.reconcile),
      saveState: (scheduleId, state) => saveReconcileState(temporalGateway(), scheduleId, state),
    };
    // Only a shared (PostgreSQL) log can answer for the bridges; each bridge's memory cannot.
    if (config.deliveryLogUrl !== undefined) {
      const { maxEntries, maxSamples } = config.webhooks.deliveryLog;
      const log = await openDeliveryLog({
        maxEntries,
        maxSamples,
        url: config.deliveryLogUrl,
        onConnectionLost: reportConnectionLoss('delivery_log'),
      });
      closers.push(() => log.close());
      reconcile.log = log;
    }
    deps.reconcile = reconcile;
  }
  if (groups.has('callback')) {
    const { receivers } = compileReceivers(config.callbacks.receivers);
    deps.callback = {
      readJob: (jobId) => readJob(temporalGateway(), jobId),
      keys: secrets.callbackKeys,
      check: (addressee, route) => receivers.deliverable(addressee, route),
      retry: callbackRetry(config.callbacks),
      breaker: new HostBreaker({
        failures: config.callbacks.breaker.failures,
        coolDownMs: durationMs(config.callbacks.breaker.coolDown),
      }),
    };
  }
  if (groups.has('ci')) {
    const sandbox = prepareCiSandbox(config);
    const reports = temporalGateway();
    const { ci } = config;
    deps.ci = {
      cancelSuperseded: (input) => cancelSupersededRuns(reports, input),
      // Bounded: a report that cannot be delivered soon is of no use to anyone watching.
      reportStep: (workflow, report) =>
        reports.call(
          (client) => client.workflow.getHandle(workflow.workflowId, workflow.runId).signal(ciStepSignalName, report),
          { timeoutMs: 5_000 },
        ),
      cloneUrl: (provider, repository, hook) => cloneUrlFor(config, provider, repository, hook),
      cloneProtocols: ci.cloneProtocols,
      ...sandbox,
      redact: redactor([
        ...Object.values(secrets.statusApis).map((api) => api.token),
        ...(secrets.argoToken === undefined ? [] : [secrets.argoToken]),
        ...(secrets.ledgerUrl === undefined ? [] : [secrets.ledgerUrl]),
        ...(config.deliveryLogUrl === undefined ? [] : [config.deliveryLogUrl]),
        ...[...secrets.reconcile.values()].flatMap((hook) => [...hook.values()]),
        ...secrets.callbackKeys.values(),
      ]),
      scratchDir: configPath(config, ci.scratchDir),
      outputLimitBytes: ci.outputLimitBytes,
      pipelines: ci.pipelines.map((pipeline) => ({
        repositories: pipeline.repositories,
        plan: {
          runner: pipeline.runner,
          statusContext: ci.statusContext,
          publicUrl: ci.publicUrl,
          heartbeatTimeoutMs: durationMs(ci.heartbeatTimeout),
          argoPollIntervalMs: durationMs(ci.argo.pollInterval),
          cancelSuperseded: ci.cancelSuperseded,
          network: pipeline.network,
          env: pipeline.env,
          ...(pipeline.steps === undefined
            ? {}
            : {
                steps: pipeline.steps.map((step) => ({
                  name: step.name,
                  run: step.run,
                  timeoutMs: durationMs(step.timeout),
                })),
              }),
          ...(pipeline.argo === undefined ? {} : { argo: pipeline.argo }),
        },
      })),
    };
  }
  return {
    deps,
    async close() {
      for (const close of closers.reverse()) await close();
    },
  };
}

/** Each reconciled hook's API client, by `provider/hook`, from its provider's reconciler. */
async function connectReconcilers(
  config: GatehouseConfig,
  credentials: WorkerSecrets['reconcile'],
): Promise<Map<string, HookApiClient>> {
  const clients = new Map<string, HookApiClient>();
  const timeoutMs = durationMs(config.webhooks.reconciler.requestTimeout);
  for (const provider of providerNames) {
    const reconciler = reconcilerOf(provider);
    for (const [hook, hookConfig] of Object.entries(config.webhooks[provider] ?? {})) {
      const block = hookConfig.reconcile;
      if (reconciler === undefined || block === undefined) continue;
      const secrets = credentials.get(`${provider}/${hook}`) ?? new Map();
      clients.set(`${provider}/${hook}`, await reconciler.connect(block, secrets, timeoutMs));
    }
  }
  return clients;
}

/** Every secret value, replaced in text by [redacted] (longest first, so no part of one survives). */
export function redactor(secrets: Secret[]): (text: string) => string {
  const values = [...new Set(secrets.map((secret) => secret.reveal()))]
    .filter((value) => value.length >= 4)
    .sort((a, b) => b.length - a.length);
  return (text) => values.reduce((redacted, value) => redacted.split(value).join('[redacted]'), text);
}
