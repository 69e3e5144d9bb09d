// Once per test run: one real Temporal dev server and one workflow bundle, shared by every test
// file. Tests isolate themselves by unique task queues, subjects and job ids.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type {} from 'vitest';
import type { TestProject } from 'vitest/node';
import { startDevServer, type DevServer } from '../../src/temporal/dev-server.js';
import { bundleWorkflows } from '../../src/worker-runtime.js';

declare module 'vitest' {
  export interface ProvidedContext {
    temporalAddress: string;
    workflowBundlePath: string;
  }
}

let server: DevServer | undefined;
let scratch: string | undefined;

export async function setup(project: TestProject): Promise<void> {
  scratch = mkdtempSync(join(tmpdir(), 'gatehouse-test-'));
  const [dev, bundle] = await Promise.all([
    startDevServer({ log: process.env.TEMPORAL_LOG === '1' ? (l) => process.stderr.write(l) : undefined }),
    bundleWorkflows(),
  ]);
  server = dev;
  const bundlePath = join(scratch, 'workflows.js');
  writeFileSync(bundlePath, bundle.code);
  project.provide('temporalAddress', server.address);
  project.provide('workflowBundlePath', bundlePath);
}

export async function teardown(): Promise<void> {
  await server?.stop();
  if (scratch !== undefined) rmSync(scratch, { recursive: true, force: true });
}
