// The OpenAPI document the typed client (src/client) is generated from: the one the bridge serves,
// for the shipped config (config/gatehouse.yaml), to an admin, who sees every operation. Built
// in-process with the bridge's own app and the same per-caller filter /openapi.json applies; it
// opens no connection (the Temporal connection is lazy and nothing is called), so the unit test
// that compares it with the generated types starts nothing.
import { buildApp } from '../src/bridge/app.js';
import { documentFor } from '../src/bridge/http/openapi-document.js';
import { loadConfig } from '../src/config/load-config.js';

/** Placeholder values: the document does not depend on secrets or on where Temporal is. */
const shippedEnv = {
  GATEHOUSE_CONFIG: 'config/gatehouse.yaml',
  TEMPORAL_ADDRESS: '127.0.0.1:7233',
  GATEHOUSE_JWT_ISSUER: 'https://issuer.invalid',
  GATEHOUSE_JWT_AUDIENCE: 'gatehouse',
  GATEHOUSE_JWKS_URL: 'https://issuer.invalid/jwks',
  GATEHOUSE_GITHUB_WEBHOOK_SECRET: 'unused',
  GATEHOUSE_GITLAB_WEBHOOK_TOKEN: 'unused',
  GATEHOUSE_GITEA_WEBHOOK_SECRET: 'unused',
  GATEHOUSE_BITBUCKET_WEBHOOK_SECRET: 'unused',
};

export async function clientDocument(): Promise<Record<string, unknown>> {
  const config = loadConfig(shippedEnv);
  const app = await buildApp(config, { logger: false });
  try {
    await app.ready();
    const rules = app.jobs.rules;
    const admin = { principal: 'client-generator', groups: [...rules.adminGroups], roles: [], scopes: [] };
    return documentFor(app.swagger() as unknown as Record<string, unknown>, admin, new Map(), rules);
  } finally {
    await app.close();
  }
}
