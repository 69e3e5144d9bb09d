// The test config (test/fixtures/gatehouse.test.yaml) and what goes with it: the secrets it names,
// its routes, and the loader the fixture uses, which merges an overlay into the file and puts every
// route on one task queue before the config is loaded and checked.
import { randomUUID } from 'node:crypto';
import { createWriteStream, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { inject } from 'vitest';
import { parse } from 'yaml';
import { loadConfig, type GatehouseConfig } from '../../src/config/load-config.js';
import { mergeOverlay, type ConfigOverlay } from '../../src/config/overlay.js';
import type { DevIssuer } from '../../src/dev/dev-issuer.js';

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

/** The bridge's request log, into this test file's log (test/helpers/test-logs.ts), never the console. */
export function testLogger() {
  return { level: 'info', stream: createWriteStream(process.env.GATEHOUSE_TEST_LOG ?? '/dev/null', { flags: 'a' }) };
}

export function uniqueName(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

const testFile = parse(readFileSync(testConfigFile, 'utf8')) as { routes: Record<string, ConfigRouteOverlay> };
/** The names of the test config file's routes. */
export const testRoutes = Object.keys(testFile.routes);
type ConfigRouteOverlay = NonNullable<NonNullable<ConfigOverlay['routes']>[string]>;

/** A route of the test config file as the file writes it, to base another route on in an overlay. */
export function testFileRoute(name: string): ConfigRouteOverlay {
  const route = testFile.routes[name];
  if (route === undefined) throw new Error(`no route ${name} in ${testConfigFile}`);
  return structuredClone(route);
}

/**
 * The test config for an issuer and a task queue, loaded as the processes load theirs: every
 * route (the file's and the overlay's) and `taskQueues` on `taskQueue` unless the overlay says
 * otherwise, Temporal at the shared dev server unless `env` names another, the test secrets set.
 */
export function loadTestConfig(options: {
  issuer: Pick<DevIssuer, 'issuer' | 'audience'>;
  taskQueue: string;
  overlay?: ConfigOverlay;
  env?: Record<string, string>;
}): GatehouseConfig {
  const routes = new Set([...testRoutes, ...Object.keys(options.overlay?.routes ?? {})]);
  const queues: ConfigOverlay = {
    taskQueues: [options.taskQueue],
    routes: Object.fromEntries([...routes].map((route) => [route, { taskQueue: options.taskQueue }])),
  };
  return loadConfig(
    {
      GATEHOUSE_CONFIG: testConfigFile,
      TEMPORAL_ADDRESS: inject('temporalAddress'),
      GATEHOUSE_JWT_ISSUER: options.issuer.issuer,
      GATEHOUSE_JWT_AUDIENCE: options.issuer.audience,
      ...testSecrets,
      ...options.env,
    },
    { overlay: mergeOverlay(queues, options.overlay ?? {}) },
  );
}
