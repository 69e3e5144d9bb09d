// The test fixture: per test file, the fakes a config points at (status APIs, a git server…), a dev
// issuer, the test config (test/fixtures/gatehouse.test.yaml) with the file's overlay merged in
// before it is loaded and checked, every route on a unique task queue of the shared Temporal dev
// server, the bridge app, a real worker on that queue unless asked not to, and callers: fresh,
// unique principals that start, read, list, cancel and follow jobs through the app.
import { randomUUID } from 'node:crypto';
import { createWriteStream, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { WorkflowBundleOption } from '@temporalio/worker';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, expect, inject } from 'vitest';
import { parse } from 'yaml';
import { buildApp } from '../../src/bridge/app.js';
import { loadConfig, type GatehouseConfig } from '../../src/config/load-config.js';
import { mergeOverlay, type ConfigOverlay } from '../../src/config/overlay.js';
import { jwtPrincipal } from '../../src/core/principal.js';
import { startDevIssuer, type DevIssuer, type DevIssuerOptions } from '../../src/dev/dev-issuer.js';
import type { Tracing } from '../../src/telemetry/tracing.js';
import { createWorkers, type WorkerSet } from '../../src/worker/worker-runtime.js';
import { openStream, type SseStream } from './sse.js';

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

export interface RunningWorkers {
  set: WorkerSet;
  stop(): Promise<void>;
}

/**
 * `bundle` and `tracing`: a traced worker needs a bundle with the tracing interceptors;
 * `maxConcurrentActivities`: the job queues' activity slots; `taskQueues`: the queues it polls
 * (default all of the config's); `env`: secrets for the workers beyond the test secrets.
 */
export interface WorkerOptions {
  bundle?: WorkflowBundleOption;
  tracing?: Tracing;
  maxConcurrentActivities?: number;
  taskQueues?: string[];
  env?: Record<string, string>;
}

export async function startWorkers(config: GatehouseConfig, options: WorkerOptions = {}): Promise<RunningWorkers> {
  const set = await createWorkers(config, {
    bundle: options.bundle ?? { codePath: inject('workflowBundlePath') },
    handleSignals: false,
    env: { ...testSecrets, ...options.env },
    ...(options.taskQueues === undefined ? {} : { taskQueues: options.taskQueues }),
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

interface Closable {
  close(): unknown;
}

/** What the overlay may use: whatever was started before the config. */
export interface Started<Fakes> {
  fakes: Fakes;
  issuer: DevIssuer;
  taskQueue: string;
}

export interface GatehouseOptions<Fakes extends Record<string, Closable>> {
  /** Started in order before the config, closed after everything else. */
  fakes?: { [K in keyof Fakes]: () => Promise<Fakes[K]> };
  /** Part of the config file, or made from what was started; loaded and checked with the file. */
  overlay?: ConfigOverlay | ((started: Started<Fakes>) => ConfigOverlay);
  /** A real worker on the file's task queue (the default), with these options; false for none. */
  worker?: boolean | WorkerOptions;
  issuer?: DevIssuerOptions;
  /**
   * Environment for the loader and the workers: another TEMPORAL_ADDRESS, Temporal's TLS
   * variables, secrets the overlay names.
   */
  env?: Record<string, string>;
  /** The bridge app: in-process (the default), listening on loopback (`url`, for streams), or none. */
  bridge?: 'inject' | 'listen' | false;
  /** The port the bridge listens on when a fake must know it first (default: any free one). */
  port?: number;
  /** The task queue (default: a unique name starting with `name`, which shows in the dev server's UI). */
  taskQueue?: string;
  name?: string;
}

export interface Gatehouse<Fakes = Record<string, never>> {
  fakes: Fakes;
  issuer: DevIssuer;
  config: GatehouseConfig;
  app: FastifyInstance;
  /** The bridge's address when it listens (`bridge: 'listen'`). */
  url: string;
  taskQueue: string;
  workers: RunningWorkers | undefined;
  /** A caller with a fresh, unique subject (so tests never see each other's jobs) and these claims. */
  caller(claims?: Record<string, unknown>): Promise<Caller>;
  close(): Promise<void>;
}

export interface StartOptions {
  /** The Idempotency-Key header. */
  key?: string;
  headers?: Record<string, string>;
}

/** One principal and what it does through the bridge (app.inject; `events` over the bridge's socket). */
export interface Caller {
  token: string;
  subject: string;
  principal: string;
  /** The authorization header, to add to a request of the test's own. */
  headers: { authorization: string };
  /** Any request as this caller. */
  request(options: InjectOptions): Promise<LightMyRequestResponse>;
  /** POST /v1/jobs/{route}, whatever it answers. */
  send(route: string, input: unknown, options?: StartOptions): Promise<LightMyRequestResponse>;
  /** POST /v1/jobs/{route}, which must start the job (202). */
  start(route: string, input: unknown, options?: StartOptions): Promise<{ jobId: string; runId: string }>;
  /** GET /v1/jobs/{jobId}, long-polling `wait` seconds when given. */
  read(jobId: string, options?: { wait?: number }): Promise<Record<string, unknown>>;
  /** GET /v1/jobs with this query. */
  list(query?: Record<string, string | number>): Promise<LightMyRequestResponse>;
  /** POST /v1/jobs/{jobId}/cancel. */
  cancel(jobId: string): Promise<LightMyRequestResponse>;
  /** GET /v1/jobs/{jobId}/events on the listening bridge (`base` for another one). */
  events(jobId: string, options?: { lastEventId?: string; base?: string }): Promise<SseStream>;
}

export async function startGatehouse<Fakes extends Record<string, Closable> = Record<string, never>>(
  options: GatehouseOptions<Fakes> = {},
): Promise<Gatehouse<Fakes>> {
  const closers: Array<() => unknown> = [];
  const close = async () => {
    for (const closer of closers.reverse()) await closer();
    closers.length = 0;
  };
  try {
    const fakes = {} as Fakes;
    for (const [name, start] of Object.entries(options.fakes ?? {}) as Array<[keyof Fakes, () => Promise<Closable>]>) {
      const fake = await start();
      closers.push(() => fake.close());
      fakes[name] = fake as Fakes[keyof Fakes];
    }
    const issuer = await startDevIssuer(options.issuer);
    closers.push(() => issuer.close());
    const taskQueue = options.taskQueue ?? uniqueName(options.name ?? 'gatehouse-test');
    const overlay =
      typeof options.overlay === 'function' ? options.overlay({ fakes, issuer, taskQueue }) : options.overlay;
    const config = loadTestConfig({
      issuer,
      taskQueue,
      ...(overlay === undefined ? {} : { overlay }),
      ...(options.env === undefined ? {} : { env: options.env }),
    });
    const bridge = options.bridge ?? 'inject';
    const app = bridge === false ? undefined : await buildApp(config, { logger: testLogger() });
    if (app !== undefined) closers.push(() => app.close());
    let url = '';
    if (app !== undefined && bridge === 'listen') {
      await app.listen({ host: '127.0.0.1', port: options.port ?? 0 });
      url = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
    } else await app?.ready();
    const workerOptions: WorkerOptions = typeof options.worker === 'object' ? options.worker : {};
    const workers =
      options.worker === false
        ? undefined
        : await startWorkers(config, { ...workerOptions, env: { ...options.env, ...workerOptions.env } });
    if (workers !== undefined) closers.push(() => workers.stop());
    const streams: SseStream[] = [];
    closers.push(() => streams.forEach((stream) => stream.close()));
    const appOf = () => {
      if (app === undefined) throw new Error('this fixture has no bridge app (bridge: false)');
      return app;
    };
    return {
      fakes,
      issuer,
      config,
      get app() {
        return appOf();
      },
      url,
      taskQueue,
      workers,
      async caller(claims = {}) {
        const subject = typeof claims.sub === 'string' ? claims.sub : uniqueName('user');
        const token = await issuer.mint({ sub: subject, ...claims });
        const headers = { authorization: `Bearer ${token}` };
        const request = (options: InjectOptions) =>
          appOf().inject({ ...options, headers: { ...headers, ...options.headers } });
        const send = (route: string, input: unknown, { key, headers = {} }: StartOptions = {}) =>
          request({
            method: 'POST',
            url: `/v1/jobs/${route}`,
            payload: input as InjectOptions['payload'],
            headers: { ...(key === undefined ? {} : { 'idempotency-key': key }), ...headers },
          });
        return {
          token,
          subject,
          principal: jwtPrincipal(issuer.issuer, subject),
          headers,
          request,
          send,
          async start(route, input, startOptions) {
            const answer = await send(route, input, startOptions);
            expect(answer.statusCode, answer.body).toBe(202);
            return answer.json<{ jobId: string; runId: string }>();
          },
          async read(jobId, { wait } = {}) {
            const query = wait === undefined ? '' : `?wait=${wait}`;
            return (await request({ url: `/v1/jobs/${jobId}${query}` })).json<Record<string, unknown>>();
          },
          list: (query = {}) =>
            request({
              url: '/v1/jobs',
              query: Object.fromEntries(Object.entries(query).map(([k, v]) => [k, String(v)])),
            }),
          cancel: (jobId) => request({ method: 'POST', url: `/v1/jobs/${jobId}/cancel` }),
          async events(jobId, { lastEventId, base = url } = {}) {
            if (base === '') throw new Error("events need a listening bridge (bridge: 'listen') or a base");
            const stream = await openStream({
              url: `${base}/v1/jobs/${jobId}/events`,
              token,
              ...(lastEventId === undefined ? {} : { lastEventId }),
            });
            streams.push(stream);
            return stream;
          },
        };
      },
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

/**
 * The usual per-file setup: the fixture started before the file's tests and closed after them.
 * The returned object is filled in by beforeAll, so tests use it as `g.app`, `g.caller()`….
 */
export function useGatehouse<Fakes extends Record<string, Closable> = Record<string, never>>(
  options: GatehouseOptions<Fakes> = {},
): Gatehouse<Fakes> {
  const gatehouse = {} as Gatehouse<Fakes>;
  // Fakes, an issuer, a bridge and workers: longer than one hook usually takes on a busy machine.
  beforeAll(async () => {
    Object.defineProperties(gatehouse, Object.getOwnPropertyDescriptors(await startGatehouse(options)));
  }, 120_000);
  afterAll(async () => {
    await gatehouse.close?.();
  });
  return gatehouse;
}
