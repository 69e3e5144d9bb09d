// Runs HAProxy with the project's config for the dev stack and the edge tests: master-worker
// mode (-W) with a master CLI socket (-S) for reloads, in the foreground (-db), with a
// self-signed certificate made by openssl. Production runs its own HAProxy with the same files.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { edgeConfigDir, edgeConfigFiles } from '../edge/edge-files.js';
import { freePort } from './temporal-dev-server.js';

export interface EdgeEnv {
  EDGE_STATE_DIR: string;
  EDGE_KEYS_DIR: string;
  EDGE_HTTPS_BIND: string;
  EDGE_CERT: string;
  EDGE_API_MAX_BODY: string;
  EDGE_WEBHOOK_RATE: string;
  /** Webhook deliveries in flight at once from one source address. */
  EDGE_WEBHOOK_CONNS: string;
  EDGE_SUBJECT_RATE: string;
  /** Job event streams open at once per verified subject (haproxy.cfg defaults it to 20). */
  EDGE_SUBJECT_STREAMS?: string;
  /** Requests per 10 s per signed-in person to /argo/ and /temporal/ (haproxy.cfg defaults it to 1000). */
  EDGE_PERSON_RATE?: string;
  EDGE_JWT_ISSUER: string;
  EDGE_JWT_AUDIENCE: string;
  EDGE_BRIDGE_1: string;
  EDGE_BRIDGE_2: string;
  EDGE_ARGO_BIND: string;
  EDGE_ARGO_1: string;
  EDGE_ARGO_2: string;
  EDGE_STATS_BIND: string;
  /** Where haproxy.cfg's Lua (people.lua) is: the folder of haproxy.cfg. */
  EDGE_CONFIG_DIR: string;
  /** The loopback-only door the session refresh calls the bridges through. */
  EDGE_REFRESH_BIND: string;
  /** The origin people's browsers use (https://host:port): unsafe cookie requests must come from it. */
  EDGE_PUBLIC_ORIGIN: string;
  /** The aud of session tokens (signIn.sessionAudience; default gatehouse-session). */
  EDGE_SESSION_AUDIENCE?: string;
  /** The Temporal UI server (host:port), for /temporal/. */
  EDGE_TEMPORAL_UI?: string;
  /** serviceAccount (default) or session: what reaches Argo as a person (docs/sign-in.md). */
  EDGE_ARGO_IDENTITY?: string;
  /** The map of "<namespace>:<role>" to a ServiceAccount token (mode 0600). */
  EDGE_ARGO_TOKENS?: string;
}

/** A self-signed certificate for localhost and 127.0.0.1, as HAProxy wants it (cert + key in one PEM). */
export function makeDevCertificate(dir: string): string {
  mkdirSync(dir, { recursive: true });
  const pem = join(dir, 'edge.pem');
  if (existsSync(pem)) return pem;
  const key = join(dir, 'edge.key');
  const cert = join(dir, 'edge.crt');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-days',
      '365',
      '-keyout',
      key,
      '-out',
      cert,
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=DNS:localhost,IP:127.0.0.1',
    ],
    { stdio: 'ignore' },
  );
  writeFileSync(pem, readFileSync(cert, 'utf8') + readFileSync(key, 'utf8'), { mode: 0o600 });
  return pem;
}

export interface EdgeProcess {
  readonly process: ChildProcess;
  readonly masterSocket: string;
  readonly adminSocket: string;
  stop(): Promise<void>;
}

export async function startEdge(
  env: EdgeEnv,
  options: { log?: (line: string) => void; haproxy?: string } = {},
): Promise<EdgeProcess> {
  mkdirSync(env.EDGE_STATE_DIR, { recursive: true });
  const masterSocket = join(env.EDGE_STATE_DIR, 'master.sock');
  const child = spawn(
    options.haproxy ?? 'haproxy',
    ['-W', '-S', masterSocket, '-db', ...edgeConfigFiles(env).flatMap((f) => ['-f', f])],
    {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const log = options.log ?? (() => {});
  child.stdout?.on('data', (d: Buffer) => log(d.toString()));
  child.stderr?.on('data', (d: Buffer) => log(d.toString()));
  const exited = new Promise<never>((_, reject) =>
    child.once('exit', (code) => reject(new Error(`haproxy exited with ${code}`))),
  );
  exited.catch(() => {});
  const [host, port] = splitHostPort(env.EDGE_HTTPS_BIND);
  await Promise.race([waitForPort(host, port, 15_000), exited]);
  return {
    process: child,
    masterSocket,
    adminSocket: join(env.EDGE_STATE_DIR, 'admin.sock'),
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const gone = new Promise((done) => child.once('exit', done));
      child.kill('SIGUSR1'); // soft stop: finish in-flight requests
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await gone;
      clearTimeout(timer);
    },
  };
}

/**
 * The environment of an edge on this machine (dev stack, edge tests, bench): state, keys and a
 * self-signed certificate under `dir`, every listener on a free loopback port, the dev stack's
 * rates and body cap; callers override what differs.
 */
export async function loopbackEdgeEnv(options: {
  dir: string;
  issuer: { issuer: string; audience: string };
  bridges: [string, string];
  overrides?: Partial<EdgeEnv>;
}): Promise<EdgeEnv> {
  const loopback = async () => `127.0.0.1:${await freePort()}`;
  const https = await loopback();
  return {
    EDGE_STATE_DIR: join(options.dir, 'state'),
    EDGE_KEYS_DIR: join(options.dir, 'keys'),
    EDGE_HTTPS_BIND: https,
    EDGE_PUBLIC_ORIGIN: `https://${https}`,
    EDGE_CONFIG_DIR: edgeConfigDir,
    EDGE_REFRESH_BIND: await loopback(),
    EDGE_CERT: makeDevCertificate(join(options.dir, 'tls')),
    EDGE_API_MAX_BODY: '262144',
    EDGE_WEBHOOK_RATE: '200',
    EDGE_WEBHOOK_CONNS: '20',
    EDGE_SUBJECT_RATE: '100',
    EDGE_JWT_ISSUER: options.issuer.issuer,
    EDGE_JWT_AUDIENCE: options.issuer.audience,
    EDGE_BRIDGE_1: options.bridges[0],
    EDGE_BRIDGE_2: options.bridges[1],
    EDGE_ARGO_BIND: await loopback(),
    EDGE_ARGO_1: await loopback(),
    EDGE_ARGO_2: await loopback(),
    EDGE_STATS_BIND: await loopback(),
    ...options.overrides,
  };
}

export function splitHostPort(address: string): [string, number] {
  const index = address.lastIndexOf(':');
  return [address.slice(0, index), Number(address.slice(index + 1))];
}

/** Whether something accepts TCP connections on host:port now. */
export function isListening(host: string, port: number): Promise<boolean> {
  return new Promise<boolean>((done) => {
    const socket = createConnection({ host, port }, () => {
      socket.destroy();
      done(true);
    });
    socket.once('error', () => done(false));
  });
}

async function waitForPort(host: string, port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await isListening(host, port)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`haproxy did not open ${host}:${port} within ${timeoutMs} ms`);
}
