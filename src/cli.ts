// Operator commands.
// - `check-config`: load and check the config as the bridge and the worker would (same environment
//   overrides; webhook, status-API and Argo secrets; Temporal's TLS files and API key; the Cedar
//   policies against their schema),
//   print the route table, exit 2 on any problem. For CI and deploy hooks.
// - `sync-jwks [--every SECONDS]`: the edge's key sync (docs/edge.md). Reads EDGE_KEYS_DIR,
//   EDGE_STATE_DIR (master socket) and the JWKS from GATEHOUSE_JWKS_URL or the issuer's discovery;
//   trusts a key while the issuer publishes it, as the bridge does (EDGE_KEY_RETAIN_SECONDS keeps
//   a retired key longer; default 0: one retention rule for the edge and the bridge). With browser
//   sign-in on, GATEHOUSE_SESSION_JWKS_URL names a bridge's session JWKS
//   (/.well-known/gatehouse/jwks.json), loaded into the session kid map (docs/sign-in.md).
// - `register-search-attributes`: adds the Gatehouse search attributes that the configured
//   namespace lacks, through Temporal's operator API (self-hosted clusters; docs/production.md).
// - `bundle-workflows [DIR]`: writes the workers' workflow bundles (src/worker/bundle-workflows.ts)
//   into DIR, by default dist/workflow-bundles beside the compiled worker; `npm run build` runs it.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError, loadConfig } from './config/load-config.js';
import { discoverJwksUrl } from './config/oidc-discovery.js';
import { Connection } from '@temporalio/client';
import { describeTemporalConnection, temporalConnectionOptions } from './config/temporal-connection.js';
import { resolveWorkerSecrets } from './config/worker-secrets.js';
import { edgeConfigFiles } from './edge/edge-files.js';
import { syncJwks } from './edge/sync-jwks.js';
import { writeWorkflowBundles } from './worker/bundle-workflows.js';
import { loadPolicyEngine } from './worker/policy-engine.js';
import { registerSearchAttributes } from './worker/search-attributes-admin.js';
import { queuePlan } from './worker/worker-runtime.js';

const [command, ...args] = process.argv.slice(2);

if (command === 'check-config') {
  try {
    const config = loadConfig(process.env);
    resolveWorkerSecrets(config, process.env);
    try {
      loadPolicyEngine(config);
    } catch (error) {
      throw new ConfigError(config.source, [`/policy: ${(error as Error).message}`]);
    }
    console.log(`${config.source}: ok`);
    console.log(`  temporal ${describeTemporalConnection(config)}`);
    for (const [name, route] of Object.entries(config.routes)) {
      console.log(`  POST /v1/jobs/${name} -> ${route.workflowType} on ${route.taskQueue}`);
    }
    for (const queue of config.taskQueues) {
      const plan = queuePlan(config, queue);
      console.log(
        `  worker --queues ${queue}: ${plan.workflowTypes.join(', ') || '(no routes)'}; activities: ${[...plan.groups].join(', ')}`,
      );
    }
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(error.message);
    process.exit(2);
  }
} else if (command === 'sync-jwks') {
  const keysDir = required('EDGE_KEYS_DIR');
  const stateDir = required('EDGE_STATE_DIR');
  const jwksUrl = (
    await discoverJwksUrl(
      process.env.GATEHOUSE_JWKS_URL === undefined
        ? required('GATEHOUSE_JWT_ISSUER')
        : (process.env.GATEHOUSE_JWT_ISSUER ?? ''),
      process.env.GATEHOUSE_JWKS_URL,
      10_000,
    )
  ).href;
  const sessionJwksUrl = process.env.GATEHOUSE_SESSION_JWKS_URL || undefined;
  const every = args[0] === '--every' ? Number(args[1]) : 0;
  const once = async () => {
    const result = await syncJwks({
      jwksUrl,
      ...(sessionJwksUrl === undefined ? {} : { sessionJwksUrl }),
      keysDir,
      configFiles: edgeConfigFiles({ EDGE_KEYS_DIR: keysDir }),
      masterSocket: join(stateDir, 'master.sock'),
      retainSeconds: Number(process.env.EDGE_KEY_RETAIN_SECONDS ?? 0),
    });
    console.log(JSON.stringify({ at: new Date().toISOString(), ...result }));
  };
  await once();
  if (every > 0) setInterval(() => void once().catch((error: unknown) => console.error(String(error))), every * 1000);
} else if (command === 'register-search-attributes') {
  try {
    const config = loadConfig(process.env, { webhookSecrets: false });
    const connection = await Connection.connect(temporalConnectionOptions(config));
    try {
      const added = await registerSearchAttributes(connection, config.temporal.namespace);
      console.log(
        `${describeTemporalConnection(config)}: ${added.length === 0 ? 'all Gatehouse search attributes present' : `added ${added.join(', ')}`}`,
      );
    } finally {
      await connection.close();
    }
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(error.message);
    process.exit(2);
  }
} else if (command === 'bundle-workflows') {
  const dir = args[0] ?? fileURLToPath(new URL('../workflow-bundles/', import.meta.url));
  for (const path of await writeWorkflowBundles(dir)) console.log(`wrote ${path}`);
} else {
  console.error(
    'usage: gatehouse check-config | sync-jwks [--every SECONDS] | register-search-attributes | bundle-workflows [DIR]',
  );
  process.exit(64);
}

function required(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === '') {
    console.error(`${name} is not set`);
    process.exit(64);
  }
  return value;
}
