// The route → workflow table is data; this checks it against what Gatehouse has (the workflow
// catalog, the task queues, the provider registry), so a typo in a workflow type, a task queue or
// an input schema fails at start-up, naming the route.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { isWorkflowType, workflowCatalog, workflowTypes, type WorkflowType } from '../core/workflow-catalog.js';
import { providerNames } from '../providers/registry.js';
import { createBodyValidator } from './body-validator.js';
import { durationMs } from './duration.js';
import type { GatehouseConfigFile } from './schema.js';

export function checkConfig(config: GatehouseConfigFile, baseDir: string): string[] {
  const problems: string[] = [];
  const queues = new Set(config.taskQueues);
  const ajv = createBodyValidator();
  for (const [name, route] of Object.entries(config.routes)) {
    const at = `/routes/${name}`;
    if (!isWorkflowType(route.workflowType)) {
      problems.push(
        `${at}/workflowType: unknown workflow type "${route.workflowType}" (known: ${workflowTypes.join(', ')})`,
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
  problems.push(...checkEmbeddedLedger(config));
  config.ci.pipelines.forEach((pipeline, index) => {
    if (pipeline.runner === 'steps' && pipeline.steps === undefined)
      problems.push(`/ci/pipelines/${index}/steps: a steps pipeline needs steps`);
    if (pipeline.runner === 'argo' && pipeline.argo === undefined)
      problems.push(`/ci/pipelines/${index}/argo: an argo pipeline needs argo settings`);
  });
  if (durationMs(config.temporal.requestTimeout) < 100)
    problems.push('/temporal/requestTimeout: must be at least 100ms');
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

/**
 * The embedded (PGlite) ledger lives in one worker process's files, so every route whose workflow
 * reads or writes usage must be on one task queue; a deployment that spreads them sets ledger.url.
 */
function checkEmbeddedLedger(config: GatehouseConfigFile): string[] {
  if (config.ledger.url !== undefined) return [];
  const users = Object.entries(config.routes).filter(
    ([, route]) =>
      isWorkflowType(route.workflowType) &&
      (workflowCatalog[route.workflowType as WorkflowType] as readonly string[]).includes('billing'),
  );
  const queues = new Set(users.map(([, route]) => route.taskQueue));
  if (queues.size <= 1) return [];
  const where = users.map(([name, route]) => `${name} on ${route.taskQueue}`).join(', ');
  return [
    `/ledger: the embedded ledger belongs to one worker process, but routes that use it are on several task queues (${where}); put them on one queue or set ledger.url`,
  ];
}
