// The scale-out test bed on one machine (`npm run cluster`, `npm run test:cluster`): Debian's
// PostgreSQL, a Temporal cluster of real server processes on it (src/dev/temporal-cluster.ts),
// two bridges behind the HAProxy edge, one worker per task queue, and the ledger on the same
// PostgreSQL. Every part is a separate process that can be killed, stopped and started again. The
// bridges and workers run compiled, with the command lines production runs (bridge-process.ts,
// worker-process.ts), so the sizes the fault test prints are what a deployment would see; the
// stack builds first when dist/ is missing or older than the sources.
// With `argo` (`npm run argo`), a real Argo Workflows too (src/dev/argo-bed/argo-bed.ts): its two
// servers behind the edge's Argo frontend, which the workers' `ci.argo.url` points at.
import { createWriteStream, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { answersOk, managedProcess, type ManagedProcess } from './managed-process.js';
import { dirname, join, resolve } from 'node:path';
import { parse, stringify } from 'yaml';
import { bridgeCommand } from '../config/bridge-process.js';
import { nodeEnvironment } from '../config/node-environment.js';
import { loadConfig } from '../config/load-config.js';
import { workerCommand } from '../config/worker-process.js';
import { ensureBuild } from './build.js';
import { edgeConfigFiles } from '../edge/edge-files.js';
import { syncJwks } from '../edge/sync-jwks.js';
import { startDevIssuer, type DevIssuer } from './dev-issuer.js';
import { loopbackEdgeEnv, startEdge, type EdgeEnv, type EdgeProcess } from './edge-process.js';
import { startPostgres, type Postgres } from './postgres.js';
import { startTemporalCluster, type TemporalCluster } from './temporal-cluster.js';
import { startArgoBed, type ArgoBed } from './argo-bed/argo-bed.js';
import { freePort } from './temporal-dev-server.js';

/** A Node process of the stack (bridge or worker). */
export type NodeProcess = ManagedProcess;

export interface ClusterStack {
  readonly dir: string;
  /** `https://127.0.0.1:<port>`: the edge. */
  readonly edgeUrl: string;
  /** The edge's self-signed certificate (PEM), for clients' --cacert. */
  readonly edgeCaFile: string;
  readonly edgeCa: Buffer;
  readonly issuer: DevIssuer;
  readonly postgres: Postgres;
  readonly temporal: TemporalCluster;
  readonly bridges: NodeProcess[];
  /** One per task queue, by queue name. */
  readonly workers: Record<string, NodeProcess>;
  readonly edge: EdgeProcess;
  readonly edgeEnv: EdgeEnv;
  /** The generated config file the bridges and workers read. */
  readonly configFile: string;
  /** The webhook secrets the bridges were given, by environment variable name. */
  readonly webhookSecrets: Record<string, string>;
  readonly ledgerUrl: string;
  readonly deliveryLogUrl: string;
  /** With `argo`: the Argo test bed, and the edge's Argo frontend (http://host:port) the workers use. */
  readonly argo?: { bed: ArgoBed; frontendUrl: string; namespace: string };
  stop(): Promise<void>;
}

export interface ClusterStackOptions {
  /** Configs, data and one log file per process. */
  dir: string;
  /** Changes to the generated Gatehouse config (a parsed config/gatehouse.yaml). */
  configure?: (config: Record<string, unknown>) => void;
  temporalServers?: number;
  bridges?: number;
  /** A real Argo Workflows behind the edge, with an `argo/*` pipeline submitting from its `build` template. */
  argo?: boolean;
  /** Where the progress lines go. */
  say?: (line: string) => void;
}

const webhookSecretNames = [
  'GATEHOUSE_GITHUB_WEBHOOK_SECRET',
  'GATEHOUSE_GITLAB_WEBHOOK_TOKEN',
  'GATEHOUSE_GITEA_WEBHOOK_SECRET',
  'GATEHOUSE_BITBUCKET_WEBHOOK_SECRET',
];

export async function startClusterStack(options: ClusterStackOptions): Promise<ClusterStack> {
  const say = options.say ?? (() => {});
  const dir = resolve(options.dir);
  const logs = join(dir, 'logs');
  mkdirSync(logs, { recursive: true });
  const stops: Array<() => Promise<void>> = [];
  const stopAll = async () => {
    for (const stop of stops.reverse()) await stop().catch(() => {});
  };
  try {
    await ensureBuild(process.cwd(), say);
    say('PostgreSQL');
    const postgres = await startPostgres({ dir: join(dir, 'postgres'), maxConnections: 400 });
    stops.push(() => postgres.stop());
    const ledgerUrl = postgres.createDatabase('gatehouse_ledger');
    const deliveryLogUrl = postgres.createDatabase('gatehouse_deliveries');

    say('Temporal cluster (schemas, server processes, search attributes)');
    const temporal = await startTemporalCluster({
      postgres,
      dir: join(dir, 'temporal'),
      ...(options.temporalServers === undefined ? {} : { servers: options.temporalServers }),
    });
    stops.push(() => temporal.stop());

    const issuer = await startDevIssuer({ allowTokenEndpoint: true });
    stops.push(() => issuer.close());

    const argo = options.argo === true ? await startArgo(join(dir, 'argo'), say) : undefined;
    if (argo !== undefined) stops.push(() => argo.bed.stop());
    const configFile = writeClusterConfig(dir, (config) => {
      if (argo !== undefined) argoPipeline(config, argo);
      options.configure?.(config);
    });
    const webhookSecrets = Object.fromEntries(webhookSecretNames.map((name) => [name, `cluster-${name}`]));
    const env: NodeJS.ProcessEnv = {
      ...nodeEnvironment,
      ...webhookSecrets,
      GATEHOUSE_CONFIG: configFile,
      GATEHOUSE_LEDGER_URL: ledgerUrl,
      GATEHOUSE_DELIVERY_LOG_URL: deliveryLogUrl,
      TEMPORAL_ADDRESS: temporal.address,
      TEMPORAL_NAMESPACE: temporal.namespace,
      GATEHOUSE_JWT_ISSUER: issuer.issuer,
      GATEHOUSE_JWT_AUDIENCE: issuer.audience,
    };

    say('workers, one per task queue');
    const workers: Record<string, NodeProcess> = {};
    for (const queue of loadConfig({ ...process.env, ...env }, { webhookSecrets: false }).taskQueues) {
      const worker = nodeProcess({
        name: `worker-${queue}`,
        command: workerCommand(queue),
        env,
        logFile: join(logs, `worker-${queue}.log`),
        ready: (output) => output.includes('worker polling'),
      });
      stops.push(() => worker.stop());
      workers[queue] = worker;
    }
    await Promise.all(Object.values(workers).map((w) => w.start()));

    say('bridges');
    const bridgeCount = options.bridges ?? 2;
    const bridgeAddresses: string[] = [];
    const bridges: NodeProcess[] = [];
    for (let index = 1; index <= bridgeCount; index += 1) {
      const address = `127.0.0.1:${await freePort()}`;
      bridgeAddresses.push(address);
      const bridge = nodeProcess({
        name: `bridge${index}`,
        command: bridgeCommand,
        env: { ...env, GATEHOUSE_LISTEN: address, GATEHOUSE_METRICS_LISTEN: `127.0.0.1:${await freePort()}` },
        logFile: join(logs, `bridge${index}.log`),
        ready: () => answersOk(`http://${address}/readyz`),
      });
      stops.push(() => bridge.stop());
      bridges.push(bridge);
    }
    await Promise.all(bridges.map((b) => b.start()));

    say('edge (HAProxy)');
    const edgeEnv = await loopbackEdgeEnv({
      dir: join(dir, 'edge'),
      issuer,
      bridges: [bridgeAddresses[0]!, bridgeAddresses[1] ?? bridgeAddresses[0]!],
      // The test bed sends a steady load from one address and one caller.
      overrides: {
        EDGE_WEBHOOK_RATE: '100000',
        EDGE_SUBJECT_RATE: '100000',
        EDGE_WEBHOOK_CONNS: '200',
        ...(argo === undefined
          ? {}
          : {
              EDGE_ARGO_BIND: argo.frontendBind,
              EDGE_ARGO_1: argo.bed.servers[0]!.address,
              EDGE_ARGO_2: argo.bed.servers[1]!.address,
            }),
      },
    });
    await syncJwks({
      jwksUrl: issuer.jwksUrl,
      keysDir: edgeEnv.EDGE_KEYS_DIR,
      configFiles: edgeConfigFiles(edgeEnv),
      retainSeconds: 0,
      env: { ...process.env, ...edgeEnv },
    });
    const edgeLog = createWriteStream(join(logs, 'edge.log'), { flags: 'a' });
    const edge = await startEdge(edgeEnv, { log: (line) => edgeLog.write(line) });
    stops.push(() => edge.stop());

    const edgeCaFile = join(dirname(edgeEnv.EDGE_CERT), 'edge.crt');
    return {
      dir,
      edgeUrl: `https://${edgeEnv.EDGE_HTTPS_BIND}`,
      edgeCaFile,
      edgeCa: readFileSync(edgeCaFile),
      issuer,
      postgres,
      temporal,
      bridges,
      workers,
      edge,
      edgeEnv,
      configFile,
      webhookSecrets,
      ledgerUrl,
      deliveryLogUrl,
      ...(argo === undefined
        ? {}
        : { argo: { bed: argo.bed, frontendUrl: `http://${argo.frontendBind}`, namespace: argo.namespace } }),
      stop: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

/**
 * config/gatehouse.yaml with the ledger and the delivery log on PostgreSQL (GATEHOUSE_LEDGER_URL,
 * GATEHOUSE_DELIVERY_LOG_URL), a drain delay the
 * edge's health check can see, and file paths made absolute so the copy can live in `dir`.
 */
function writeClusterConfig(dir: string, configure?: (config: Record<string, unknown>) => void): string {
  const source = resolve('config/gatehouse.yaml');
  const config = parse(readFileSync(source, 'utf8')) as Record<string, Record<string, unknown>>;
  const base = dirname(source);
  const absolute = (value: unknown) => (typeof value === 'string' ? resolve(base, value) : value);
  config.server = { ...config.server, drainDelay: '3s' };
  config.ledger = { url: { env: 'GATEHOUSE_LEDGER_URL' } };
  // One delivery log for both bridges, on the same PostgreSQL.
  config.webhooks = { ...config.webhooks, deliveryLog: { url: { env: 'GATEHOUSE_DELIVERY_LOG_URL' } } };
  const policy = config.policy ?? {};
  for (const key of ['policies', 'entities', 'schema']) if (key in policy) policy[key] = absolute(policy[key]);
  const ci = config.ci ?? {};
  ci.scratchDir = join(dir, 'ci');
  configure?.(config);
  const file = join(dir, 'gatehouse.yaml');
  writeFileSync(file, stringify(config));
  return file;
}

interface StackArgo {
  bed: ArgoBed;
  /** The edge's Argo frontend, chosen before the edge so the workers' config can name it. */
  frontendBind: string;
  namespace: string;
}

/** The Argo bed with a `ci` namespace and a two-step WorkflowTemplate `build` in it. */
async function startArgo(dir: string, say: (line: string) => void): Promise<StackArgo> {
  say('Argo Workflows (etcd, Kubernetes API server, kwok, controller, two servers)');
  const namespace = 'ci';
  const bed = await startArgoBed({ dir, namespaces: [namespace] });
  try {
    await bed.apply({
      apiVersion: 'argoproj.io/v1alpha1',
      kind: 'WorkflowTemplate',
      metadata: { name: 'build', namespace },
      spec: {
        entrypoint: 'main',
        arguments: { parameters: [{ name: 'repository' }, { name: 'revision' }] },
        templates: [
          { name: 'main', steps: [[{ name: 'compile', template: 'step' }], [{ name: 'test', template: 'step' }]] },
          { name: 'step', container: { image: 'alpine:3', command: ['echo', '{{workflow.parameters.revision}}'] } },
        ],
      },
    });
    return { bed, frontendBind: `127.0.0.1:${await freePort()}`, namespace };
  } catch (error) {
    await bed.stop();
    throw error;
  }
}

/** Workers submit through the edge's Argo frontend; `argo/*` repositories run the `build` template. */
function argoPipeline(config: Record<string, unknown>, argo: StackArgo): void {
  const ci = (config.ci ?? {}) as Record<string, unknown>;
  ci.argo = { url: `http://${argo.frontendBind}`, pollInterval: '1s' };
  ci.pipelines = [
    { repositories: ['argo/*'], runner: 'argo', argo: { namespace: argo.namespace, workflowTemplate: 'build' } },
    ...((ci.pipelines as unknown[] | undefined) ?? []),
  ];
  config.ci = ci;
}

/** A bridge or a worker: the entry run by Node with tsx, as `npm start` and `npm run worker` do. */
/** A bridge or worker from its production command line (`node …`), run by this Node. */
function nodeProcess(options: {
  name: string;
  command: readonly string[];
  env: NodeJS.ProcessEnv;
  logFile: string;
  ready: (output: string) => boolean | Promise<boolean>;
}): NodeProcess {
  const [, ...args] = options.command;
  return managedProcess({ ...options, command: process.execPath, args });
}
