// Webpack runs here, once per set of workflow types; every worker of the process polling that
// set shares the result. A bundle exports only the workflow types asked for, so a task queue's
// worker registers exactly the workflows of the routes on it. A tracing worker's bundle also holds
// Temporal's OpenTelemetry workflow interceptors (worker-tracing.ts); one that does not trace runs
// none of their code.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleWorkflowCode, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import type { WorkflowType } from '../core/workflow-catalog.js';
import { workflowTracingModule } from './worker-tracing.js';

export const workflowsPath = fileURLToPath(new URL('../../workflows/index.ts', import.meta.url));
/**
 * Workflow interceptors, in every bundle: a prebuilt bundle ignores the Worker's own list. The
 * callback interceptor acts only for jobs whose memo names a callback (src/core/callbacks.ts).
 */
export const workflowInterceptorModules = [
  fileURLToPath(new URL('../../workflows/callback-interceptor.ts', import.meta.url)),
];
const projectModules = fileURLToPath(new URL('../../node_modules', import.meta.url));

/**
 * All workflows (tests bundle once per run); or only `types`. `tracing`: with the tracing
 * interceptors too.
 */
export async function bundleWorkflows(
  types?: readonly WorkflowType[],
  options: { tracing?: boolean } = {},
): Promise<WorkflowBundleWithSourceMap> {
  const interceptorModules = [
    ...workflowInterceptorModules,
    ...(options.tracing === true ? [workflowTracingModule] : []),
  ];
  if (types === undefined)
    return bundleWorkflowCode({
      workflowsPath,
      workflowInterceptorModules: interceptorModules,
      logger: quietBundlerLogger,
    });
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-workflows-'));
  const entry = join(dir, 'entry.ts');
  writeFileSync(entry, `export { ${[...types].sort().join(', ')} } from ${JSON.stringify(workflowsPath)};\n`);
  try {
    return await bundleWorkflowCode({
      workflowsPath: entry,
      workflowInterceptorModules: interceptorModules,
      logger: quietBundlerLogger,
      // The entry lives outside the project: resolve packages from the project's node_modules.
      webpackConfigHook: (config) => ({
        ...config,
        resolve: { ...config.resolve, modules: [projectModules, 'node_modules'] },
      }),
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const quietBundlerLogger = {
  log() {},
  trace() {},
  debug() {},
  info() {},
  warn(message: string, meta?: object) {
    console.warn(message, meta ?? '');
  },
  error(message: string, meta?: object) {
    console.error(message, meta ?? '');
  },
};
