// A real Temporal cluster on this machine, the test bed for running Gatehouse on many: the Temporal
// server built from its Go module (scripts/build-temporal-server.sh), its schemas created in
// PostgreSQL by the release's own SQL tool, N server processes that form one cluster (each runs
// frontend, history, matching and worker; membership on loopback; several history shards), and
// HAProxy in TCP mode in front of the frontends, so clients keep one address while a server dies.
// Never used by production, which runs Temporal its own way (docs/production.md).
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Connection } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time.js';
import type { Postgres } from './postgres.js';
import { freePort } from './temporal-dev-server.js';
import { lowPort } from './low-port.js';
import { managedProcess, type ManagedProcess } from './managed-process.js';
import { isListening } from './edge-process.js';
import { registerSearchAttributes } from '../worker/search-attributes-admin.js';

/** Builds the server when needed (minutes, the first time) and returns the directory of its binaries. */
export function temporalServerDir(projectRoot = process.cwd()): string {
  const fromEnv = process.env.TEMPORAL_SERVER_DIR;
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  const out = execFileSync('bash', [resolve(projectRoot, 'scripts/build-temporal-server.sh')], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return out.trim().split('\n').at(-1)!;
}

interface ServerPorts {
  frontend: number;
  frontendHttp: number;
  frontendMembership: number;
  history: number;
  historyMembership: number;
  matching: number;
  matchingMembership: number;
  worker: number;
  workerMembership: number;
}

async function serverPorts(): Promise<ServerPorts> {
  const next = () => lowPort();
  return {
    frontend: await next(),
    frontendHttp: await next(),
    frontendMembership: await next(),
    history: await next(),
    historyMembership: await next(),
    matching: await next(),
    matchingMembership: await next(),
    worker: await next(),
    workerMembership: await next(),
  };
}

/** The server's static config for one process of the cluster: SQL persistence and visibility. */
function serverConfig(options: {
  ports: ServerPorts;
  postgresPort: number;
  user: string;
  shards: number;
  dynamicConfig: string;
  seedFrontend: number;
}): string {
  const { ports } = options;
  const store = (database: string, maxConns: number) => `
      sql:
        pluginName: postgres12
        databaseName: ${database}
        connectAddr: "127.0.0.1:${options.postgresPort}"
        connectProtocol: tcp
        user: ${options.user}
        password: ""
        maxConns: ${maxConns}
        maxIdleConns: ${maxConns}
        maxConnLifetime: 1h`;
  const service = (grpc: number, membership: number, http?: number) => `
    rpc:
      grpcPort: ${grpc}
      membershipPort: ${membership}
      bindOnIP: 127.0.0.1${http === undefined ? '' : `\n      httpPort: ${http}`}`;
  return `log:
  stdout: true
  level: warn
persistence:
  defaultStore: default
  visibilityStore: visibility
  numHistoryShards: ${options.shards}
  datastores:
    default:${store('temporal', 20)}
    visibility:${store('temporal_visibility', 5)}
global:
  membership:
    maxJoinDuration: 30s
    broadcastAddress: 127.0.0.1
services:
  frontend:${service(ports.frontend, ports.frontendMembership, ports.frontendHttp)}
  history:${service(ports.history, ports.historyMembership)}
  matching:${service(ports.matching, ports.matchingMembership)}
  worker:${service(ports.worker, ports.workerMembership)}
clusterMetadata:
  enableGlobalNamespace: false
  failoverVersionIncrement: 10
  masterClusterName: active
  currentClusterName: active
  clusterInformation:
    active:
      enabled: true
      initialFailoverVersion: 1
      rpcName: frontend
      rpcAddress: "127.0.0.1:${options.seedFrontend}"
dcRedirectionPolicy:
  policy: noop
dynamicConfigClient:
  filepath: ${JSON.stringify(options.dynamicConfig)}
  pollInterval: 10s
`;
}

// Search attributes registered through the operator API are read at once on every frontend, and
// ids up to Gatehouse's own maximum are accepted.
const dynamicConfig = `system.forceSearchAttributesCacheRefreshOnRead:
  - value: true
limit.maxIDLength:
  - value: 255
`;

/** Creates (or brings up to date) the persistence and visibility schemas with the release's SQL tool. */
export function setupSchemas(postgres: Postgres, serverDir: string): void {
  const tool = join(serverDir, 'temporal-sql-tool');
  for (const [database, versioned] of [
    ['temporal', 'temporal'],
    ['temporal_visibility', 'visibility'],
  ] as const) {
    postgres.createDatabase(database);
    const base = ['--plugin', 'postgres12', '--ep', '127.0.0.1', '-p', String(postgres.port), '-u', postgres.user];
    const hasSchema = postgres.query(database, "SELECT to_regclass('public.schema_version') IS NOT NULL") === 't';
    if (!hasSchema) execFileSync(tool, [...base, '--db', database, 'setup-schema', '-v', '0.0'], { stdio: 'pipe' });
    execFileSync(
      tool,
      [
        ...base,
        '--db',
        database,
        'update-schema',
        '-d',
        join(serverDir, 'schema/postgresql/v12', versioned, 'versioned'),
      ],
      { stdio: 'pipe' },
    );
  }
}

export interface ServerProcess extends ManagedProcess {
  /** host:port of this process's frontend. */
  readonly frontend: string;
}

export interface TemporalCluster {
  /** host:port of the load balancer in front of every frontend: what bridges and workers use. */
  readonly address: string;
  readonly namespace: string;
  readonly servers: ServerProcess[];
  /** Resolves when the namespace and the search attributes answer through the load balancer. */
  waitServing(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

export interface TemporalClusterOptions {
  postgres: Postgres;
  /** Where configs and logs go. */
  dir: string;
  servers?: number;
  shards?: number;
  namespace?: string;
  log?: (line: string) => void;
}

export async function startTemporalCluster(options: TemporalClusterOptions): Promise<TemporalCluster> {
  const serverDir = temporalServerDir();
  const namespace = options.namespace ?? 'default';
  mkdirSync(options.dir, { recursive: true });
  setupSchemas(options.postgres, serverDir);
  const dynamicConfigFile = join(options.dir, 'dynamicconfig.yaml');
  writeFileSync(dynamicConfigFile, dynamicConfig);

  const count = options.servers ?? 2;
  const allPorts = await Promise.all(Array.from({ length: count }, () => serverPorts()));
  const servers = allPorts.map((ports, index) => {
    const name = `temporal${index + 1}`;
    const configFile = join(options.dir, `${name}.yaml`);
    writeFileSync(
      configFile,
      serverConfig({
        ports,
        postgresPort: options.postgres.port,
        user: options.postgres.user,
        shards: options.shards ?? 8,
        dynamicConfig: dynamicConfigFile,
        seedFrontend: allPorts[0]!.frontend,
      }),
    );
    return managedServer(name, serverDir, configFile, `127.0.0.1:${ports.frontend}`, join(options.dir, `${name}.log`));
  });

  const balancer = await startTcpBalancer(
    join(options.dir, 'balancer'),
    servers.map((s) => s.frontend),
  );
  const cluster: TemporalCluster = {
    address: balancer.address,
    namespace,
    servers,
    waitServing: (timeoutMs = 60_000) => waitServing(balancer.address, namespace, timeoutMs),
    async stop() {
      await balancer.stop();
      await Promise.all(servers.map((s) => s.stop()));
    },
  };
  try {
    // The first process alone creates the ring; the others join it.
    await servers[0]!.start();
    await registerNamespace(servers[0]!.frontend, namespace);
    await Promise.all(servers.slice(1).map((s) => s.start()));
    await registerAttributes(servers[0]!.frontend, namespace);
    await cluster.waitServing();
  } catch (error) {
    await cluster.stop();
    throw error;
  }
  return cluster;
}

function managedServer(
  name: string,
  serverDir: string,
  configFile: string,
  frontend: string,
  logFile: string,
): ServerProcess {
  const managed = managedProcess({
    name,
    command: join(serverDir, 'temporal-server'),
    args: ['--config-file', configFile, '--allow-no-auth', 'start'],
    logFile,
    ready: () => isHealthy(frontend),
    readyTimeoutMs: 90_000,
    graceMs: 15_000,
  });
  return Object.assign(managed, { frontend });
}

/** The frontend's gRPC health service answers SERVING. */
async function isHealthy(address: string): Promise<boolean> {
  const connection = await Connection.connect({ address, connectTimeout: 2_000 });
  try {
    const answer = await connection.withDeadline(Date.now() + 2_000, () => connection.healthService.check({}));
    return answer.status === 1;
  } finally {
    await connection.close();
  }
}

async function registerNamespace(address: string, namespace: string): Promise<void> {
  const connection = await Connection.connect({ address });
  try {
    await connection.workflowService.registerNamespace({
      namespace,
      workflowExecutionRetentionPeriod: msToTs('3 days'),
    });
  } catch (error) {
    if (!/already exists/i.test(String(error))) throw error;
  } finally {
    await connection.close();
  }
}

/** Registers the search attributes once the namespace is in the frontend's cache. */
async function registerAttributes(address: string, namespace: string): Promise<void> {
  const connection = await Connection.connect({ address });
  try {
    // A namespace registered a moment ago may not be in every frontend's cache yet.
    await poll(`search attributes on ${namespace}`, 30_000, async () => {
      await registerSearchAttributes(connection, namespace);
      return true;
    });
  } finally {
    await connection.close();
  }
}

/** Serving means a visibility query on a Gatehouse search attribute answers, not just an open port. */
async function waitServing(address: string, namespace: string, timeoutMs: number): Promise<void> {
  await poll(`Temporal at ${address}`, timeoutMs, async () => {
    const connection = await Connection.connect({ address, connectTimeout: 2_000 });
    try {
      await connection.withDeadline(Date.now() + 3_000, () =>
        connection.workflowService.listWorkflowExecutions({ namespace, query: "GatehouseOwner = 'probe'" }),
      );
      return true;
    } finally {
      await connection.close();
    }
  });
}

async function poll(what: string, timeoutMs: number, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      if (await check()) return;
    } catch (error) {
      last = error;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${what} was not ready within ${timeoutMs} ms: ${String(last)}`);
}

export interface TcpBalancer {
  readonly address: string;
  stop(): Promise<void>;
}

/**
 * HAProxy in TCP mode over the frontends: health-checked every second, sessions to a server that
 * goes down are cut so the clients reconnect to one that is up.
 */
async function startTcpBalancer(dir: string, servers: string[]): Promise<TcpBalancer> {
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const configFile = join(dir, 'haproxy.cfg');
  writeFileSync(
    configFile,
    `global
    log stderr format short local0 warning
defaults
    mode tcp
    log global
    timeout connect 2s
    timeout client 10m
    timeout server 10m
frontend temporal
    bind 127.0.0.1:${port}
    default_backend frontends
backend frontends
    balance roundrobin
    default-server inter 1s fall 2 rise 2 on-marked-down shutdown-sessions
${servers.map((address, i) => `    server frontend${i + 1} ${address} check`).join('\n')}
`,
  );
  const haproxy = managedProcess({
    name: 'temporal-balancer',
    command: 'haproxy',
    args: ['-db', '-f', configFile],
    logFile: join(dir, 'haproxy.log'),
    ready: () => isListening('127.0.0.1', port),
    readyTimeoutMs: 10_000,
    graceMs: 5_000,
  });
  await haproxy.start();
  return { address: `127.0.0.1:${port}`, stop: () => haproxy.stop() };
}
