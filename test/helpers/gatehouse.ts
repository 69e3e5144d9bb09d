// The test fixture: per test file, the fakes a config points at (status APIs, a git server…), a dev
// issuer, the test config (test/fixtures/gatehouse.test.yaml) with the file's overlay merged in
// before it is loaded and checked, every route on a unique task queue of the shared Temporal dev
// server, the bridge app, a real worker on that queue unless asked not to, and callers: fresh,
// unique principals that start, read, list, cancel and follow jobs through the app.
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll } from 'vitest';
import { buildApp } from '../../src/bridge/app.js';
import type { GatehouseConfig } from '../../src/config/load-config.js';
import type { ConfigOverlay } from '../../src/config/overlay.js';
import { startDevIssuer, type DevIssuer, type DevIssuerOptions } from '../../src/dev/dev-issuer.js';
import { createCaller, type Caller } from './caller.js';
import type { SseStream } from './sse.js';
import { loadTestConfig, testLogger, uniqueName } from './test-config.js';
import { startWorkers, type RunningWorkers, type WorkerOptions } from './test-workers.js';

export { createCaller, type Caller, type StartOptions } from './caller.js';
export {
  loadTestConfig,
  testConfigFile,
  testFileRoute,
  testLogger,
  testRoutes,
  testSecrets,
  uniqueName,
} from './test-config.js';
export { startWorkers, type RunningWorkers, type WorkerOptions } from './test-workers.js';

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
      await app.listen({ host: '127.0.0.1', port: 0 });
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
      caller: (claims) => createCaller(issuer, { app: appOf, url, streams }, claims),
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
