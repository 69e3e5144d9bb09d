// The workflow bundles: webpack runs at build time (`npm run build` → `gatehouse bundle-workflows`),
// never when a production worker starts, and a worker loads a prebuilt bundle by path. Two bundles,
// each with every workflow: one plain, one with Temporal's OpenTelemetry workflow interceptors too
// (worker-tracing.ts), so a worker that does not trace runs none of their code. One bundle serves
// every queue: bundles of a queue's workflows alone held the same code (webpack keeps every module
// workflows/index imports; only the exported names differed), and what a queue's worker can do is
// the activity groups it registers (worker-runtime.ts), not the workflow names its bundle exports.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleWorkflowCode, type WorkflowBundlePath } from '@temporalio/worker';
import { workflowTracingModule } from './worker-tracing.js';

// Run from the sources (tsx, tests) this module bundles workflows/*.ts; compiled (dist/src/worker),
// the compiled dist/workflows/*.js, whose source maps lead the bundle's back to the TypeScript.
const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
export const workflowsPath = fileURLToPath(new URL(`../../workflows/index${ext}`, import.meta.url));
/**
 * Workflow interceptors, in every bundle: a prebuilt bundle ignores the Worker's own list. The
 * callback interceptor acts only for jobs whose memo names a callback (src/core/callbacks.ts).
 */
export const workflowInterceptorModules = [
  fileURLToPath(new URL(`../../workflows/callback-interceptor${ext}`, import.meta.url)),
];

/** Every workflow; `tracing`: with the tracing interceptors too. */
export async function bundleWorkflows(options: { tracing?: boolean } = {}): Promise<{ code: string }> {
  return bundleWorkflowCode({
    workflowsPath,
    workflowInterceptorModules: [
      ...workflowInterceptorModules,
      ...(options.tracing === true ? [workflowTracingModule] : []),
    ],
    // The SDK needs an inline source map (it maps workflow stack traces with it, and copies it into
    // the workflow context). The sources' text in it is read only for showStackTraceSources, which
    // is off: without it each bundle is half the size, and a worker holds about 17 MB less.
    webpackConfigHook: (config) => ({ ...config, devtool: 'inline-nosources-source-map' }),
    logger: quietBundlerLogger,
  });
}

/** The file names of the two bundles in a bundle directory. */
const bundleFile = (tracing: boolean) => (tracing ? 'workflows-tracing.js' : 'workflows.js');

/** Writes both bundles into `dir` (the build's step); returns their paths. */
export async function writeWorkflowBundles(dir: string): Promise<string[]> {
  mkdirSync(dir, { recursive: true });
  const written: string[] = [];
  for (const tracing of [false, true]) {
    const path = join(dir, bundleFile(tracing));
    writeFileSync(path, (await bundleWorkflows({ tracing })).code);
    written.push(path);
  }
  return written;
}

/** Thrown when a worker is pointed at a bundle directory that lacks the bundle it needs. */
export class MissingWorkflowBundleError extends Error {
  override readonly name = 'MissingWorkflowBundleError';
}

/** The prebuilt bundle a worker loads from `dir`: the tracing one when it traces. */
export function prebuiltWorkflowBundle(dir: string, options: { tracing: boolean }): WorkflowBundlePath {
  const codePath = join(dir, bundleFile(options.tracing));
  if (!existsSync(codePath))
    throw new MissingWorkflowBundleError(
      `no workflow bundle at ${codePath}: \`npm run build\` writes the bundles (gatehouse bundle-workflows <dir>)`,
    );
  return { codePath };
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
