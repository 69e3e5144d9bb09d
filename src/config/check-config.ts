// The route → workflow table is data; this checks it against what Gatehouse has (the workflow
// catalog, the task queues, the provider registry), so a typo in a workflow type, a task queue or
// an input schema fails at start-up, naming the route.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import {
  isRouteWorkflowType,
  routeWorkflowTypes,
  workflowCatalog,
  type WorkflowType,
} from '../core/workflow-catalog.js';
import { providerNames, reconcilerOf } from '../providers/registry.js';
import { createBodyValidator } from './body-validator.js';
import { checkCallbacks } from './callbacks.js';
import { durationMs } from './duration.js';
import { checkEgress } from './egress.js';
import type { GatehouseConfigFile } from './schema.js';

export function checkConfig(config: GatehouseConfigFile, baseDir: string): string[] {
  const problems: string[] = [];
  const queues = new Set(config.taskQueues);
  const ajv = createBodyValidator();
  for (const [name, route] of Object.entries(config.routes)) {
    const at = `/routes/${name}`;
    if (!isRouteWorkflowType(route.workflowType)) {
      problems.push(
        `${at}/workflowType: unknown workflow type "${route.workflowType}" (known: ${routeWorkflowTypes.join(', ')})`,
      );
    }
    if (!queues.has(route.taskQueue)) {
      problems.push(
        `${at}/taskQueue: "${route.taskQueue}" is not one of /taskQueues (${config.taskQueues.join(', ')})`,
      );
    }
    const { groups, roles, scopes, anyAuthenticated } = route.access;
    if (groups.length === 0 && roles.length === 0 && scopes.length === 0 && !anyAuthenticated) {
      problems.push(
        `${at}/access: names no groups, roles or scopes and anyAuthenticated is false, so nobody could call it`,
      );
    }
    if (route.input.type !== 'object') {
      problems.push(`${at}/input: the input schema must describe an object (type: object)`);
    }
    try {
      ajv.compile(route.input);
    } catch (error) {
      problems.push(`${at}/input: not a valid JSON Schema: ${(error as Error).message}`);
    }
  }
  for (const provider of providerNames) {
    for (const [hook, hookConfig] of Object.entries(config.webhooks[provider] ?? {})) {
      hookConfig.rules.forEach((rule, index) => {
        if (!Object.hasOwn(config.routes, rule.route)) {
          problems.push(`/webhooks/${provider}/${hook}/rules/${index}/route: no route named "${rule.route}"`);
        }
      });
    }
  }
  problems.push(...checkReconcilers(config));
  problems.push(...checkEmbeddedLedger(config));
  problems.push(...checkWorkerSlots(config));
  problems.push(...checkCallbacks(config));
  problems.push(...checkEgress(config));
  config.ci.pipelines.forEach((pipeline, index) => {
    if (pipeline.runner === 'steps' && pipeline.steps === undefined)
      problems.push(`/ci/pipelines/${index}/steps: a steps pipeline needs steps`);
    if (pipeline.runner === 'argo' && pipeline.argo === undefined)
      problems.push(`/ci/pipelines/${index}/argo: an argo pipeline needs argo settings`);
  });
  if (durationMs(config.temporal.requestTimeout) < 100)
    problems.push('/temporal/requestTimeout: must be at least 100ms');
  const heartbeat = durationMs(config.limits.streamHeartbeat);
  if (heartbeat < 100 || heartbeat > 60_000)
    problems.push('/limits/streamHeartbeat: must be from 100ms to 60s (under the edge idle timeout, 65s)');
  if (durationMs(config.limits.streamMaxDuration) <= heartbeat)
    problems.push('/limits/streamMaxDuration: must be longer than /limits/streamHeartbeat');
  const policyFiles = [
    ['policies', config.policy.policies],
    ['entities', config.policy.entities],
    ['schema', config.policy.schema],
  ] as const;
  for (const [key, path] of policyFiles) {
    if (path !== undefined && !existsSync(resolve(baseDir, path))) {
      problems.push(`/policy/${key}: file not found: ${resolve(baseDir, path)}`);
    }
  }
  return problems;
}

/** A workflow task runs on a cached workflow: the SDK would quietly lower the slots to the cache. */
function checkWorkerSlots(config: GatehouseConfigFile): string[] {
  const { cachedWorkflows, workflowTaskSlots } = config.worker;
  if (cachedWorkflows === undefined || cachedWorkflows === 0 || workflowTaskSlots === undefined) return [];
  return workflowTaskSlots > cachedWorkflows
    ? [`/worker/workflowTaskSlots: ${workflowTaskSlots} is more than /worker/cachedWorkflows (${cachedWorkflows})`]
    : [];
}

/**
 * The embedded (PGlite) ledger lives in one worker process's files, so every route whose workflow
 * reads or writes usage must be on one task queue; a deployment that spreads them sets ledger.url.
 */
function checkEmbeddedLedger(config: GatehouseConfigFile): string[] {
  if (config.ledger.url !== undefined) return [];
  const users = Object.entries(config.routes).filter(
    ([, route]) =>
      isRouteWorkflowType(route.workflowType) &&
      (workflowCatalog[route.workflowType as WorkflowType] as readonly string[]).includes('billing'),
  );
  const queues = new Set(users.map(([, route]) => route.taskQueue));
  if (queues.size <= 1) return [];
  const where = users.map(([name, route]) => `${name} on ${route.taskQueue}`).join(', ');
  return [
    `/ledger: the embedded ledger belongs to one worker process, but routes that use it are on several task queues (${where}); put them on one queue or set ledger.url`,
  ];
}

/**
 * A reconcile block must fit its provider's reconciler (src/providers/<name>/reconciler.ts); a
 * provider without one has no API to reconcile with. The reconciler needs a worker on its queue.
 */
function checkReconcilers(config: GatehouseConfigFile): string[] {
  const problems: string[] = [];
  let any = false;
  for (const provider of providerNames) {
    const reconciler = reconcilerOf(provider);
    for (const [hook, hookConfig] of Object.entries(config.webhooks[provider] ?? {})) {
      const block = hookConfig.reconcile;
      if (block === undefined) continue;
      any = true;
      const at = `/webhooks/${provider}/${hook}/reconcile`;
      if (reconciler === undefined) {
        problems.push(`${at}: ${provider} has no API to find missed deliveries with`);
        continue;
      }
      const misfit = reconciler.check(block, at);
      problems.push(...misfit);
      if (misfit.length > 0) continue;
      if (durationMs(block.lookback) > durationMs(reconciler.keeps))
        problems.push(`${at}/lookback: at most ${reconciler.keeps} (${provider} keeps deliveries that long)`);
      if (durationMs(block.every) < 60_000) problems.push(`${at}/every: at least 1m`);
    }
  }
  const queue = config.webhooks.reconciler.taskQueue;
  if (any && !config.taskQueues.includes(queue))
    problems.push(
      `/webhooks/reconciler/taskQueue: "${queue}" is not one of /taskQueues (${config.taskQueues.join(', ')}); hooks with reconcile need a worker there`,
    );
  return problems;
}
