// Per test file: a dev issuer, a config pointing at the shared Temporal dev server with a unique
// task queue, the bridge app, and (when asked) a real worker on that queue.
import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { Value } from 'typebox/value';
import { PipelineSchema, type PipelineConfig } from '../../src/config/schema.js';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, inject } from 'vitest';
import { buildApp } from '../../src/bridge/app.js';
import { loadConfig, type GatehouseConfig } from '../../src/config/load-config.js';
import { jwtPrincipal } from '../../src/core/principal.js';
import { startDevIssuer, type DevIssuer, type DevIssuerOptions } from '../../src/dev/dev-issuer.js';
import type { Tracing } from '../../src/telemetry/tracing.js';
import { createWorkers, type WorkerSet } from '../../src/worker/worker-runtime.js';
import type { WorkflowBundleOption } from '@temporalio/worker';

export const testConfigFile = fileURLToPath(new URL('../fixtures/gatehouse.test.yaml', import.meta.url));

/** The secrets the test configs name (webhook secrets, status-API tokens, callback receivers' keys), as environment. */
export const testSecrets = {
  TEST_GITHUB_SECRET: 'gh-secret-current',
  TEST_GITHUB_SECRET_NEXT: 'gh-secret-next',
  TEST_GITHUB_ENTERPRISE_SECRET: 'ghe-secret',
  TEST_GITLAB_TOKEN: 'gl-token',
  TEST_GITLAB_SIGNING_SECRET: `whsec_${Buffer.from('gitlab-signing-key-0123456789abcdef').toString('base64')}`,
  TEST_GITEA_SECRET: 'gitea-secret',
  TEST_BITBUCKET_SECRET: 'bb-secret',
  TEST_STATUS_TOKEN: 'status-api-token',
  TEST_CALLBACK_SECRET: `whsec_${Buffer.from('gatehouse-callback-key-0123456789').toString('base64')}`,
  TEST_CALLBACK_KEY_A: `whsec_${Buffer.from('callback-key-of-team-a-0123456789').toString('base64')}`,
  TEST_CALLBACK_KEY_B: `whsec_${Buffer.from('callback-key-of-team-b-0123456789').toString('base64')}`,
} as const;

export interface Harness {
  issuer: DevIssuer;
  config: GatehouseConfig;
  app: FastifyInstance;
  taskQueue: string;
  workers: RunningWorkers | undefined;
  /** A token for a fresh, unique subject (so tests never see each other's jobs). */
  token(claims?: Record<string, unknown>): Promise<{ token: string; subject: string; principal: string }>;
  close(): Promise<void>;
}

/** The bridge's request log, into this test file's log (test/helpers/test-logs.ts), never the console. */
export function testLogger() {
  return { level: 'info', stream: createWriteStream(process.env.GATEHOUSE_TEST_LOG ?? '/dev/null', { flags: 'a' }) };
}

/** Pipelines for a test's config, with the schema's defaults filled in as loadConfig would. */
export function pipelines(...list: Array<Record<string, unknown>>): PipelineConfig[] {
  return list.map((pipeline) => Value.Default(PipelineSchema, structuredClone(pipeline)) as PipelineConfig);
}

export function uniqueName(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

/**
 * The test config for a given issuer and Temporal, with every route on one unique task queue;
 * `env` adds environment overrides (the Temporal TLS variables).
 */
export function testConfig(
  issuer: DevIssuer,
  taskQueue: string,
  temporalAddress = inject('temporalAddress'),
  env: Record<string, string> = {},
): GatehouseConfig {
  const config = loadConfig({
    GATEHOUSE_CONFIG: testConfigFile,
    TEMPORAL_ADDRESS: temporalAddress,
    GATEHOUSE_JWT_ISSUER: issuer.issuer,
    GATEHOUSE_JWT_AUDIENCE: issuer.audience,
    ...testSecrets,
    ...env,
  });
  config.taskQueues = [taskQueue];
  for (const route of Object.values(config.routes)) route.taskQueue = taskQueue;
  return config;
}

export interface RunningWorkers {
  set: WorkerSet;
  stop(): Promise<void>;
}

/**
 * `bundle` and `tracing`: a traced worker needs a bundle with the tracing interceptors;
 * `maxConcurrentActivities`: the job queues' activity slots.
 */
export async function startWorkers(
  config: GatehouseConfig,
  options: { bundle?: WorkflowBundleOption; tracing?: Tracing; maxConcurrentActivities?: number } = {},
): Promise<RunningWorkers> {
  const set = await createWorkers(config, {
    bundle: options.bundle ?? { codePath: inject('workflowBundlePath') },
    handleSignals: false,
    env: { ...testSecrets },
    ...(options.tracing === undefined ? {} : { tracing: options.tracing }),
    ...(options.maxConcurrentActivities === undefined
      ? {}
      : { maxConcurrentActivities: options.maxConcurrentActivities }),
  });
  const running = set.run();
  return {
    set,
    async stop() {
      set.shutdown();
      await running;
    },
  };
}

export async function startHarness(
  options: { worker?: boolean; temporalAddress?: string; env?: Record<string, string>; issuer?: DevIssuerOptions } = {},
): Promise<Harness> {
  const issuer = await startDevIssuer(options.issuer);
  const taskQueue = uniqueName('gatehouse-test');
  const config = testConfig(issuer, taskQueue, options.temporalAddress, options.env);
  const app = await buildApp(config, { logger: testLogger() });
  await app.ready();
  const workers = options.worker === false ? undefined : await startWorkers(config);
  return {
    issuer,
    config,
    app,
    taskQueue,
    workers,
    async token(claims = {}) {
      const subject = typeof claims.sub === 'string' ? claims.sub : uniqueName('user');
      return {
        subject,
        principal: jwtPrincipal(issuer.issuer, subject),
        token: await issuer.mint({ sub: subject, ...claims }),
      };
    },
    async close() {
      await workers?.stop();
      await app.close();
      await issuer.close();
    },
  };
}

/**
 * The usual per-file setup: a harness started before the file's tests and closed after them. The
 * returned object is filled in by beforeAll, so tests use it as `h.app`, `h.token()`….
 */
export function useHarness(options: Parameters<typeof startHarness>[0] = {}): Harness {
  const harness = {} as Harness;
  beforeAll(async () => {
    Object.assign(harness, await startHarness(options));
  });
  afterAll(async () => {
    await harness.close?.();
  });
  return harness;
}
