// The route → workflow table is data; this checks it against what the code actually has, so a
// typo in a workflow type, a task queue or an input schema fails at start-up, naming the route.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsPlugin from 'ajv-formats';
import * as workflows from '../../workflows/index.js';
import { durationMs } from './duration.js';
import { webhookProviders, type GatehouseConfigFile } from './schema.js';

// ajv-formats is CommonJS with a default export; under NodeNext the callable is one level down.
const addFormats = addFormatsPlugin as unknown as typeof addFormatsPlugin.default;

const knownWorkflowTypes = new Set(Object.keys(workflows).filter((name) => typeof (workflows as Record<string, unknown>)[name] === 'function'));

export function checkRoutes(config: GatehouseConfigFile, baseDir: string): string[] {
  const problems: string[] = [];
  const queues = new Set(config.taskQueues);
  // The same Ajv dialect and formats the request validator uses (src/http/validators.ts).
  const ajv = addFormats(new Ajv2020({ strict: false }));
  for (const [name, route] of Object.entries(config.routes)) {
    const at = `/routes/${name}`;
    if (!knownWorkflowTypes.has(route.workflowType)) {
      problems.push(`${at}/workflowType: unknown workflow type "${route.workflowType}" (known: ${[...knownWorkflowTypes].join(', ')})`);
    }
    if (!queues.has(route.taskQueue)) {
      problems.push(`${at}/taskQueue: "${route.taskQueue}" is not one of /taskQueues (${config.taskQueues.join(', ')})`);
    }
    const { groups, scopes, anyAuthenticated } = route.access;
    if (groups.length === 0 && scopes.length === 0 && !anyAuthenticated) {
      problems.push(`${at}/access: names no groups or scopes and anyAuthenticated is false, so nobody could call it`);
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
  for (const provider of webhookProviders) {
    for (const [hook, hookConfig] of Object.entries(config.webhooks[provider] ?? {})) {
      hookConfig.rules.forEach((rule, index) => {
        if (!(rule.route in config.routes)) {
          problems.push(`/webhooks/${provider}/${hook}/rules/${index}/route: no route named "${rule.route}"`);
        }
      });
    }
  }
  if (config.temporal.requestTimeout !== undefined && durationMs(config.temporal.requestTimeout) < 100) {
    problems.push('/temporal/requestTimeout: must be at least 100ms');
  }
  for (const [key, path] of [['policies', config.policy.policies], ['entities', config.policy.entities], ['schema', config.policy.schema]] as const) {
    if (path !== undefined && !existsSync(resolve(baseDir, path))) {
      problems.push(`/policy/${key}: file not found: ${resolve(baseDir, path)}`);
    }
  }
  return problems;
}
