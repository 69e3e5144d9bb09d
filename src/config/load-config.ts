// Loads gatehouse.yaml: parse, fill defaults, apply the environment overrides of DESIGN.md §3,
// then check the shape and the route table. Every error names the file, the path inside it and
// what was expected, so a bad file stops the process with a message an operator can act on.
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { Compile } from 'typebox/compile';
import { Value } from 'typebox/value';
import { parseDocument } from 'yaml';
import { checkRoutes } from './check-routes.js';
import { ConfigSchema, RouteSchema, webhookProviders, type GatehouseConfigFile } from './schema.js';
import { resolveSecret, Secret, type SecretRef } from './secrets.js';

export interface HookSecrets {
  secrets: Secret[];
  signingSecrets: Secret[];
}

export interface GatehouseConfig extends GatehouseConfigFile {
  /** Absolute path of the file this came from; relative paths inside it resolve against its folder. */
  readonly source: string;
  /** Resolved webhook secrets by `provider/hook`; every configured hook has at least one. */
  readonly webhookSecrets: ReadonlyMap<string, HookSecrets>;
  /** The ledger's PostgreSQL connection string, when one is configured. */
  readonly ledgerUrl?: Secret;
}

/** Thrown when the config file is missing, unparsable or wrong; `problems` lists each finding. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly file: string, readonly problems: string[]) {
    super(`invalid configuration in ${file}:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

/** The environment variables that override the file, and where each one lands. */
export const envOverrides = [
  ['GATEHOUSE_LISTEN', ['server', 'listen']],
  ['TEMPORAL_ADDRESS', ['temporal', 'address']],
  ['TEMPORAL_NAMESPACE', ['temporal', 'namespace']],
  ['GATEHOUSE_JWT_ISSUER', ['auth', 'issuer']],
  ['GATEHOUSE_JWKS_URL', ['auth', 'jwksUrl']],
  ['GATEHOUSE_JWT_AUDIENCE', ['auth', 'audience']],
] as const;

const checkShape = Compile(ConfigSchema);

export interface LoadOptions {
  /** false for processes that never see a webhook (the worker): they are not handed its secrets. */
  webhookSecrets?: boolean;
}

export function loadConfig(env: NodeJS.ProcessEnv, options: LoadOptions = {}): GatehouseConfig {
  const file = resolve(env.GATEHOUSE_CONFIG ?? 'config/gatehouse.yaml');
  const raw = parseYaml(file);
  for (const [name, [section, key]] of envOverrides) {
    const value = env[name];
    if (value === undefined || value === '') continue;
    const target = (raw[section] ??= {}) as Record<string, unknown>;
    target[key] = value;
  }
  const withDefaults = Value.Default(ConfigSchema, raw) as Record<string, unknown>;
  // TypeBox does not descend into Record values, so each route gets its defaults here.
  const routes = withDefaults.routes;
  if (routes !== null && typeof routes === 'object') {
    for (const [name, route] of Object.entries(routes)) {
      (routes as Record<string, unknown>)[name] = Value.Default(RouteSchema, route);
    }
  }
  if (!checkShape.Check(withDefaults)) {
    const problems = checkShape.Errors(withDefaults).map((e) => `${e.instancePath || '/'}: ${e.message}`);
    throw new ConfigError(file, dedupe(problems));
  }
  const shaped = withDefaults as GatehouseConfigFile;
  const problems = checkRoutes(shaped, dirname(file));
  const webhookSecrets = options.webhookSecrets === false
    ? new Map<string, HookSecrets>()
    : resolveWebhookSecrets(shaped, env, (p) => resolve(dirname(file), p), problems);
  const ledgerUrl = shaped.ledger.url === undefined ? undefined : resolveSecret(shaped.ledger.url, env, (p) => resolve(dirname(file), p));
  if (typeof ledgerUrl === 'string') problems.push(`/ledger/url: ${ledgerUrl}`);
  if (problems.length > 0) throw new ConfigError(file, problems);
  return { ...shaped, source: file, webhookSecrets, ...(ledgerUrl instanceof Secret ? { ledgerUrl } : {}) };
}

/** Every hook's secrets, resolved now; a missing one is a start-up error naming the hook. */
function resolveWebhookSecrets(
  config: GatehouseConfigFile, env: NodeJS.ProcessEnv, resolvePath: (p: string) => string, problems: string[],
): Map<string, HookSecrets> {
  const resolved = new Map<string, HookSecrets>();
  for (const provider of webhookProviders) {
    for (const [hook, hookConfig] of Object.entries(config.webhooks[provider] ?? {})) {
      const resolveAll = (refs: SecretRef[] | undefined, key: string) => (refs ?? []).flatMap((ref, index) => {
        const secret = resolveSecret(ref, env, resolvePath);
        if (typeof secret === 'string') {
          problems.push(`/webhooks/${provider}/${hook}/${key}/${index}: ${secret}`);
          return [];
        }
        return [secret];
      });
      resolved.set(`${provider}/${hook}`, {
        secrets: resolveAll(hookConfig.secrets, 'secrets'),
        signingSecrets: resolveAll(hookConfig.signingSecrets, 'signingSecrets'),
      });
    }
  }
  return resolved;
}

/** Resolves a path named in the config file against the file's folder. */
export function configPath(config: GatehouseConfig, path: string): string {
  return resolve(dirname(config.source), path);
}

function parseYaml(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError(file, [`cannot read the file: ${(error as Error).message}`]);
  }
  const document = parseDocument(text, { prettyErrors: true });
  if (document.errors.length > 0) {
    throw new ConfigError(file, document.errors.map((e) => `YAML: ${e.message}`));
  }
  const value: unknown = document.toJS();
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new ConfigError(file, ['/: expected a mapping at the top level']);
  }
  return value as Record<string, unknown>;
}

function dedupe(lines: string[]): string[] {
  return [...new Set(lines)];
}
