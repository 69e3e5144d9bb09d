// The edge under test: a real HAProxy with the project's config in front of two real bridge
// replicas (listening on loopback), keys synced from the dev issuer, and a worker.
import { mkdtempSync, rmSync } from 'node:fs';
import { request as httpsRequest, Agent } from 'node:https';
import type { IncomingMessage } from 'node:http';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/bridge/app.js';
import type { GatehouseConfig } from '../../src/config/load-config.js';
import type { DevIssuer } from '../../src/dev/dev-issuer.js';
import { mergeOverlay, type ConfigOverlay } from '../../src/config/overlay.js';
import {
  loopbackEdgeEnv,
  splitHostPort,
  startEdge,
  type EdgeEnv,
  type EdgeProcess,
} from '../../src/dev/edge-process.js';
import { edgeConfigFiles } from '../../src/edge/edge-files.js';
import { syncJwks } from '../../src/edge/sync-jwks.js';
import { freePort } from '../../src/dev/temporal-dev-server.js';
import {
  startGatehouse,
  testLogger,
  type Caller,
  type GatehouseOptions,
  type RunningWorkers,
  type Started,
  type WorkerOptions,
} from './gatehouse.js';
import { freshSignInKeys, signInOverlay } from './sign-in.js';
import { sessionJwksPath } from '../../src/bridge/sign-in/sign-in-plugin.js';
import type { Tracing } from '../../src/telemetry/tracing.js';

export interface Bridge {
  app: FastifyInstance;
  address: string;
  /** Headers of every request this replica received, in order. */
  seen: Array<Record<string, string | string[] | undefined>>;
}

export interface EdgeHarness<Fakes = Record<string, never>> {
  fakes: Fakes;
  issuer: DevIssuer;
  config: GatehouseConfig;
  env: EdgeEnv;
  edge: EdgeProcess;
  bridges: [Bridge, Bridge];
  workers: RunningWorkers;
  base: { host: string; port: number };
  /** One run of the edge's key sync; `retainSeconds` as EDGE_KEY_RETAIN_SECONDS (the harness keeps keys an hour). */
  sync(options?: { retainSeconds?: number }): ReturnType<typeof syncJwks>;
  /**
   * Replaces one bridge replica as a rolling deploy does: it drains (/readyz 503) until the edge
   * has taken it out, stops, and a replica built from `config` starts on the same address; resolves
   * once the edge has it back.
   */
  replaceBridge(index: 0 | 1, config: GatehouseConfig): Promise<void>;
  /** A fresh, unique principal's token (its job methods go to no in-process app: use `send`). */
  caller(claims?: Record<string, unknown>): Promise<Pick<Caller, 'token' | 'subject' | 'principal' | 'headers'>>;
  close(): Promise<void>;
}

async function startBridge(config: GatehouseConfig, tracing?: Tracing, listenPort?: number): Promise<Bridge> {
  const app = await buildApp(config, { logger: testLogger(), ...(tracing === undefined ? {} : { tracing }) });
  const seen: Bridge['seen'] = [];
  // Every request the replica's server receives, before any of the app's hooks (its own token
  // check among them) can answer it.
  app.server.on('request', (request: IncomingMessage) => {
    seen.push({ ...request.headers });
  });
  const port = listenPort ?? (await freePort());
  await app.listen({ host: '127.0.0.1', port });
  return { app, address: `127.0.0.1:${port}`, seen };
}

/**
 * What a test may add: the fixture's fakes and overlay (over the edge's own: the bridges trust the
 * edge, a 1 s JWKS cooldown, sign-in when asked), tracing (with a bundle that traces), the edge's log.
 */
export interface EdgeHarnessOptions<Fakes extends Record<string, { close(): unknown }>> {
  fakes?: GatehouseOptions<Fakes>['fakes'];
  overlay?: ConfigOverlay | ((started: Started<Fakes>) => ConfigOverlay);
  /**
   * Browser sign-in on: the dev issuer serves its sign-in, the bridges are its relying party at
   * the edge's origin, and the edge syncs the bridges' session keys too.
   */
  signIn?: { overrides?: ConfigOverlay['signIn'] };
  /** The worker's queues, bundle…; `tracing` goes to the bridges too. */
  worker?: WorkerOptions;
  tracing?: Tracing;
  /** The fixture's task queue, when the test must name it before the edge starts. */
  taskQueue?: string;
  edgeLog?: (line: string) => void;
}

export async function startEdgeHarness<Fakes extends Record<string, { close(): unknown }> = Record<string, never>>(
  overrides: Partial<EdgeEnv> = {},
  options: EdgeHarnessOptions<Fakes> = {},
): Promise<EdgeHarness<Fakes>> {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-edge-'));
  // The edge's origin is known before the bridges start: it is the sign-in's redirect target.
  const httpsBind = overrides.EDGE_HTTPS_BIND ?? `127.0.0.1:${await freePort()}`;
  const signIn =
    options.signIn === undefined
      ? undefined
      : signInOverlay(`https://${httpsBind}`, await freshSignInKeys(), options.signIn.overrides);
  const edgeOverlay: ConfigOverlay = {
    server: { trustProxy: ['127.0.0.1'] },
    // Rotation tests need the bridge, too, to pick up a new key within a second.
    auth: { jwksCooldown: '1s' },
    ...signIn?.overlay,
  };
  const overlay = options.overlay;
  const g = await startGatehouse<Fakes>({
    name: 'gatehouse-edge',
    issuer: { allowSignIn: signIn !== undefined },
    bridge: false,
    worker: { ...options.worker, ...(options.tracing === undefined ? {} : { tracing: options.tracing }) },
    ...(options.taskQueue === undefined ? {} : { taskQueue: options.taskQueue }),
    ...(options.fakes === undefined ? {} : { fakes: options.fakes }),
    ...(signIn === undefined ? {} : { env: signIn.env }),
    overlay: (started) => mergeOverlay(edgeOverlay, (typeof overlay === 'function' ? overlay(started) : overlay) ?? {}),
  });
  const { issuer, config } = g;
  const workers = g.workers!;
  const bridges: [Bridge, Bridge] = [
    await startBridge(config, options.tracing),
    await startBridge(config, options.tracing),
  ];
  const env = await loopbackEdgeEnv({
    dir,
    issuer,
    bridges: [bridges[0].address, bridges[1].address],
    overrides: {
      EDGE_API_MAX_BODY: String(config.limits.maxBodyBytes),
      EDGE_WEBHOOK_RATE: '1000',
      // Per subject and 10 s; the other edge tests stay well under it with their own subjects.
      EDGE_SUBJECT_RATE: '300',
      EDGE_HTTPS_BIND: httpsBind,
      EDGE_PUBLIC_ORIGIN: `https://${httpsBind}`,
      ...overrides,
    },
  });
  const sync = (syncOptions: { retainSeconds?: number } = {}) =>
    syncJwks({
      jwksUrl: issuer.jwksUrl,
      ...(config.signIn === undefined ? {} : { sessionJwksUrl: `http://${bridges[0].address}${sessionJwksPath}` }),
      keysDir: env.EDGE_KEYS_DIR,
      configFiles: edgeConfigFiles(env),
      retainSeconds: syncOptions.retainSeconds ?? 3600,
      env: { ...process.env, ...env },
      ...(edgeRef.current === undefined ? {} : { masterSocket: edgeRef.current.masterSocket }),
    });
  const edgeRef: { current?: EdgeProcess } = {};
  await sync();
  const edge = await startEdge(env, {
    log: options.edgeLog ?? (process.env.EDGE_LOG === '1' ? (l) => process.stderr.write(l) : undefined),
  });
  edgeRef.current = edge;
  return {
    fakes: g.fakes,
    issuer,
    config,
    env,
    edge,
    bridges,
    workers,
    base: { host: '127.0.0.1', port: splitHostPort(env.EDGE_HTTPS_BIND)[1] },
    sync,
    async replaceBridge(index, next) {
      const name = `bridge${index + 1}`;
      const old = bridges[index];
      old.app.lifecycle.draining = true;
      await waitForServer(edge.adminSocket, 'bridges', name, /^DOWN/);
      await old.app.close();
      const port = splitHostPort(old.address)[1];
      bridges[index] = await startBridge(next, options.tracing, port);
      await waitForServer(edge.adminSocket, 'bridges', name, /^UP$/);
    },
    caller: (claims) => g.caller(claims),
    async close() {
      await edge.stop();
      for (const bridge of bridges) await bridge.app.close();
      await g.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface EdgeAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  /** True when the request went over a connection the agent had already used. */
  reused: boolean;
  json<T = Record<string, unknown>>(): T;
}

/**
 * One HTTPS request through the edge (the dev certificate is self-signed). Like standard HTTP
 * clients (RFC 9112 §9.3.1), an idempotent request that fails on a *reused* keep-alive connection
 * before any response arrives is sent once more; `retries` counts those.
 */
export const retries = { count: 0 };

export async function send(base: EdgeHarness['base'], options: Parameters<typeof sendOnce>[1]): Promise<EdgeAnswer> {
  try {
    return await sendOnce(base, options);
  } catch (error) {
    const idempotent = (options.method ?? 'GET') === 'GET';
    if (!idempotent || !(error as { reusedSocket?: boolean }).reusedSocket) throw error;
    retries.count += 1;
    return sendOnce(base, options);
  }
}

function sendOnce(
  base: EdgeHarness['base'],
  options: { method?: string; path: string; headers?: Record<string, string>; body?: string | Buffer; agent?: Agent },
): Promise<EdgeAnswer> {
  return new Promise((resolve, reject) => {
    const request = httpsRequest(
      {
        host: base.host,
        port: base.port,
        method: options.method ?? 'GET',
        path: options.path,
        headers: {
          ...(options.body === undefined ? {} : { 'content-length': String(Buffer.byteLength(options.body)) }),
          ...options.headers,
        },
        rejectUnauthorized: false,
        agent: options.agent ?? new Agent({ keepAlive: false, rejectUnauthorized: false }),
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (c: Buffer) => chunks.push(c));
        response.on('end', () => {
          const body = Buffer.concat(chunks).toString('utf8');
          resolve({
            status: response.statusCode ?? 0,
            headers: response.headers,
            body,
            reused: request.reusedSocket,
            json: <T>() => JSON.parse(body) as T,
          });
        });
        response.on('error', reject);
      },
    );
    request.on('error', (error) => reject(Object.assign(error, { reusedSocket: request.reusedSocket })));
    request.end(options.body);
  });
}

/** One command on the edge's admin socket (stats socket, level admin); its answer. */
export function adminCommand(adminSocket: string, command: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = createConnection(adminSocket);
    let out = '';
    socket.on('data', (d: Buffer) => (out += d.toString()));
    socket.on('end', () => resolve(out));
    socket.on('error', reject);
    socket.end(`${command}\n`);
  });
}

/** Each server's status and request count (health checks not counted) in one of the edge's backends. */
export async function edgeServerStats(
  adminSocket: string,
  backend: string,
): Promise<Record<string, { status: string; sessions: number }>> {
  const csv = await adminCommand(adminSocket, 'show stat');
  const stats: Record<string, { status: string; sessions: number }> = {};
  for (const line of csv.split('\n')) {
    const fields = line.split(',');
    if (fields[0] !== backend || fields[1] === undefined || ['FRONTEND', 'BACKEND'].includes(fields[1])) continue;
    stats[fields[1]] = { status: fields[17] ?? 'unknown', sessions: Number(fields[7] ?? NaN) };
  }
  return stats;
}

async function waitForServer(adminSocket: string, backend: string, server: string, status: RegExp): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const now = (await edgeServerStats(adminSocket, backend))[server]?.status ?? 'unknown';
    if (status.test(now)) return;
    if (Date.now() > deadline) throw new Error(`${backend}/${server} is ${now}, not ${status}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
