// The bridge as it runs in production: compiled JavaScript (npm run build), not through tsx, with
// the image's Node flags (src/config/bridge-process.ts); with a heap snapshot on SIGUSR2 (written
// to `diagnostics`) and as many open files as it may have (10,000 idle long-polls need as many
// sockets). BENCH_BRIDGE_NODE_ARGS adds flags (later ones win): "--cpu-prof
// --cpu-prof-dir=/tmp/prof" profiles it (bench/profile-summary.ts).
import { join } from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { bridgeNodeFlags } from '../src/config/bridge-process.js';
import { nodeEnvironment } from '../src/config/node-environment.js';
import { freePort } from '../src/dev/temporal-dev-server.js';
import { call, until } from './load.js';

export interface BridgeProcess {
  pid: number;
  port: number;
  url: string;
  /** host:port of its metrics listener. */
  metricsAddress: string;
  stop(): Promise<void>;
}

export interface BridgeOptions {
  temporalAddress: string;
  issuer: { issuer: string; audience: string };
  webhookSecret: string;
  /** Where SIGUSR2 writes its heap snapshot. */
  diagnostics: string;
  /** BENCH_BRIDGE_NODE_ARGS, split. */
  nodeArgs: string[];
  /** Environment on top of this process's and the bench's settings. */
  env: Record<string, string>;
  /** How to stop it is added here as soon as it is spawned. */
  cleanups: Array<() => Promise<void> | void>;
  /** The compiled tree it runs; `dist` unless another build is compared (bench/idle-waits.ts). */
  build?: string;
}

export async function startBridge(options: BridgeOptions): Promise<BridgeProcess> {
  const nodeArgs = [
    ...bridgeNodeFlags,
    '--heapsnapshot-signal=SIGUSR2',
    `--diagnostic-dir=${options.diagnostics}`,
    ...options.nodeArgs,
  ];
  const port = await freePort();
  const metricsAddress = `127.0.0.1:${await freePort()}`;
  const child = spawn(
    'bash',
    [
      '-c',
      'ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"; exec "$@"',
      'bash',
      process.execPath,
      ...nodeArgs,
      join(options.build ?? 'dist', 'src/server.js'),
    ],
    {
      env: {
        ...process.env,
        GATEHOUSE_CONFIG: 'config/gatehouse.yaml',
        GATEHOUSE_LISTEN: `127.0.0.1:${port}`,
        GATEHOUSE_METRICS_LISTEN: metricsAddress,
        TEMPORAL_ADDRESS: options.temporalAddress,
        GATEHOUSE_JWT_ISSUER: options.issuer.issuer,
        GATEHOUSE_JWT_AUDIENCE: options.issuer.audience,
        GATEHOUSE_GITHUB_WEBHOOK_SECRET: options.webhookSecret,
        GATEHOUSE_GITLAB_WEBHOOK_TOKEN: 'x',
        GATEHOUSE_GITEA_WEBHOOK_SECRET: 'x',
        GATEHOUSE_BITBUCKET_WEBHOOK_SECRET: 'x',
        NODE_ENV: 'production',
        ...nodeEnvironment,
        ...options.env,
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
  options.cleanups.push(() => stopChild(child));
  const url = `http://127.0.0.1:${port}`;
  if (!(await until(async () => (await call(`${url}/readyz`, { timeoutMs: 2_000 })).status === 200, 60_000, 250))) {
    throw new Error(`the bridge did not become ready at ${url}/readyz within 60 s`);
  }
  return { pid: child.pid!, port, url, metricsAddress, stop: () => stopChild(child) };
}

/** The environment that turns tracing off: every OTEL_* variable of this process, emptied. */
export function untracedEnv(): Record<string, string> {
  return Object.fromEntries(
    Object.keys(process.env)
      .filter((name) => name.startsWith('OTEL_'))
      .map((name) => [name, '']),
  );
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise((done) => child.once('exit', done));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await gone;
  clearTimeout(timer);
}
