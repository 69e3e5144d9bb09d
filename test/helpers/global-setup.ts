// Once per test run: one real Temporal dev server and one workflow bundle, shared by every test
// file. Tests isolate themselves by unique task queues, subjects and job ids.
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type {} from 'vitest';
import type { TestProject } from 'vitest/node';
import { startDevServer, type DevServer } from '../../src/dev/temporal-dev-server.js';
import { testLogDir } from './log-files.js';
import { bundleWorkflows } from '../../src/worker/bundle-workflows.js';

declare module 'vitest' {
  export interface ProvidedContext {
    temporalAddress: string;
    /** The dev server's Web UI under /temporal, for the sign-in tests (the edge puts it behind a session). */
    temporalUiAddress: string;
    workflowBundlePath: string;
  }
}

let server: DevServer | undefined;
let scratch: string | undefined;

export async function setup(project: TestProject): Promise<void> {
  scratch = mkdtempSync(join(tmpdir(), 'gatehouse-test-'));
  mkdirSync(testLogDir, { recursive: true });
  writeFileSync(join(testLogDir, 'temporal-server.log'), '');
  const [dev, bundle] = await Promise.all([
    startDevServer({
      uiPublicPath: '/temporal',
      log: (line) => appendFileSync(join(testLogDir, 'temporal-server.log'), line),
    }),
    bundleWorkflows(),
  ]);
  server = dev;
  // Named as in a bundle directory (src/worker/bundle-workflows.ts): a worker process can be given it.
  const bundlePath = join(scratch, 'workflows.js');
  writeFileSync(bundlePath, bundle.code);
  project.provide('temporalAddress', server.address);
  project.provide('temporalUiAddress', server.uiAddress!);
  project.provide('workflowBundlePath', bundlePath);
}

export async function teardown(): Promise<void> {
  await server?.stop();
  if (scratch !== undefined) rmSync(scratch, { recursive: true, force: true });
}
