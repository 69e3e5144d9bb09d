// Operator commands.
// - `check-config`: load and check the config as the bridge would (same environment overrides),
//   print the route table, exit 2 on any problem. For CI and deploy hooks.
// - `sync-jwks [--every SECONDS]`: the edge's key sync (DESIGN.md §6). Reads EDGE_KEYS_DIR,
//   EDGE_STATE_DIR (master socket) and the JWKS from GATEHOUSE_JWKS_URL or the issuer's discovery;
//   keeps retired keys EDGE_KEY_RETAIN_SECONDS (default 86400, the longest token lifetime).
// - `dev-cert DIR`: a self-signed edge certificate in DIR/edge.pem (development only).
import { join } from 'node:path';
import { ConfigError, loadConfig } from './config/load-config.js';
import { edgeConfigFiles, makeDevCertificate } from './edge/edge-process.js';
import { syncJwks } from './edge/sync-jwks.js';

const [command, ...args] = process.argv.slice(2);

if (command === 'check-config') {
  try {
    const config = loadConfig(process.env);
    console.log(`${config.source}: ok`);
    for (const [name, route] of Object.entries(config.routes)) {
      console.log(`  POST /v1/jobs/${name} -> ${route.workflowType} on ${route.taskQueue}`);
    }
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(error.message);
    process.exit(2);
  }
} else if (command === 'dev-cert') {
  // A self-signed certificate for the edge (development and docker-compose only).
  console.log(makeDevCertificate(args[0] ?? required('EDGE_TLS_DIR')));
} else if (command === 'sync-jwks') {
  const keysDir = required('EDGE_KEYS_DIR');
  const stateDir = required('EDGE_STATE_DIR');
  const jwksUrl = process.env.GATEHOUSE_JWKS_URL ?? (await discoverJwks(required('GATEHOUSE_JWT_ISSUER')));
  const every = args[0] === '--every' ? Number(args[1]) : 0;
  const once = async () => {
    const result = await syncJwks({
      jwksUrl, keysDir, configFiles: edgeConfigFiles({ EDGE_KEYS_DIR: keysDir }),
      masterSocket: join(stateDir, 'master.sock'), retainSeconds: Number(process.env.EDGE_KEY_RETAIN_SECONDS ?? 86_400),
    });
    console.log(JSON.stringify({ at: new Date().toISOString(), ...result }));
  };
  await once();
  if (every > 0) setInterval(() => void once().catch((error: unknown) => console.error(String(error))), every * 1000);
} else {
  console.error('usage: gatehouse check-config | sync-jwks [--every SECONDS] | dev-cert DIR');
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

async function discoverJwks(issuer: string): Promise<string> {
  const response = await fetch(`${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`);
  const document = (await response.json()) as { issuer?: string; jwks_uri?: string };
  if (document.issuer !== issuer || document.jwks_uri === undefined) throw new Error('OIDC discovery does not match the issuer');
  return document.jwks_uri;
}
