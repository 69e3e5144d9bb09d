// Loads gatehouse.yaml: parse, apply the environment overrides, fill the schema's defaults, then
// check the shape and the route table. Every error names the file, the path inside it and what was
// expected, so a bad file stops the process with a message an operator can act on.
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { TSchema } from 'typebox';
import { Compile } from 'typebox/compile';
import { Value } from 'typebox/value';
import { parseDocument } from 'yaml';
import type { Secret } from '../core/secret.js';
import type { HookSecrets } from '../providers/provider.js';
import { providerNames } from '../providers/registry.js';
import { checkConfig } from './check-config.js';
import { mergeOverlay, type ConfigOverlay } from './overlay.js';
import { ConfigSchema, type GatehouseConfigFile, type SignInConfig } from './schema.js';
import { SecretResolver } from './secrets.js';
import { readTemporalCredentials, type TemporalTlsMaterial } from './temporal-connection.js';

export interface GatehouseConfig extends GatehouseConfigFile {
  /** Absolute path of the file this came from; relative paths inside it resolve against its folder. */
  readonly source: string;
  /** Resolved webhook secrets by `provider/hook`; every configured hook has at least one. */
  readonly webhookSecrets: ReadonlyMap<string, HookSecrets>;
  /**
   * The ledger's PostgreSQL connection string: never resolved by the loader, only by a worker
   * that runs the billing activities (src/config/worker-secrets.ts), so no other process needs it.
   */
  readonly ledgerUrl?: Secret;
  /** The delivery log's PostgreSQL connection string (webhooks.deliveryLog.url), when configured. */
  readonly deliveryLogUrl?: Secret;
  /** Temporal's API key (temporal.apiKey), resolved. */
  readonly temporalApiKey?: Secret;
  /** The PEM files temporal.tls names, read and checked at load; present exactly when TLS is on. */
  readonly temporalTls?: TemporalTlsMaterial;
  /** The sign-in's secrets (signIn), resolved for the bridge; never for the workers. */
  readonly signInSecrets?: SignInSecrets;
}

export interface SignInSecrets {
  readonly sessionKeys: Secret;
  readonly cookieKeys: Secret[];
  readonly clientSecret?: Secret;
}

/** Thrown when the config file is missing, unparsable or wrong; `problems` lists each finding. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(
    readonly file: string,
    readonly problems: string[],
  ) {
    super(`invalid configuration in ${file}:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

/** The environment variables that override the file, and where each one lands. */
export const envOverrides = [
  ['GATEHOUSE_LISTEN', ['server', 'listen']],
  ['GATEHOUSE_METRICS_LISTEN', ['server', 'metricsListen']],
  ['GATEHOUSE_DRAIN_DELAY', ['server', 'drainDelay']],
  ['TEMPORAL_ADDRESS', ['temporal', 'address']],
  ['TEMPORAL_NAMESPACE', ['temporal', 'namespace']],
  /** The Temporal CLI's names. TEMPORAL_TLS is true or false; false turns off the file's tls too. */
  ['TEMPORAL_TLS', ['temporal', 'tls']],
  ['TEMPORAL_TLS_SERVER_NAME', ['temporal', 'tls', 'serverName']],
  ['TEMPORAL_TLS_CA', ['temporal', 'tls', 'serverCaFile']],
  ['TEMPORAL_TLS_CERT', ['temporal', 'tls', 'clientCertFile']],
  ['TEMPORAL_TLS_KEY', ['temporal', 'tls', 'clientKeyFile']],
  /** The key itself: the config gets { env: TEMPORAL_API_KEY }, resolved as every secret is. */
  ['TEMPORAL_API_KEY', ['temporal', 'apiKey']],
  ['GATEHOUSE_JWT_ISSUER', ['auth', 'issuer']],
  ['GATEHOUSE_JWKS_URL', ['auth', 'jwksUrl']],
  ['GATEHOUSE_JWT_AUDIENCE', ['auth', 'audience']],
  /** Comma-separated addresses or CIDRs of the edge (containers whose addresses the file cannot know). */
  ['GATEHOUSE_TRUST_PROXY', ['server', 'trustProxy']],
] as const;

/** Overrides that turn a section on (true) or off (false), whatever the file says. */
export const switchOverrides: ReadonlySet<string> = new Set(['TEMPORAL_TLS']);
/** Overrides whose value is a comma-separated list. */
export const listOverrides: ReadonlySet<string> = new Set(['GATEHOUSE_TRUST_PROXY']);
/** Overrides whose value is a file path: relative to the working directory, as the Temporal CLI reads them. */
export const pathOverrides: ReadonlySet<string> = new Set(['TEMPORAL_TLS_CA', 'TEMPORAL_TLS_CERT', 'TEMPORAL_TLS_KEY']);
/** Overrides whose value is a secret: the config names the variable, never holds the value. */
export const secretOverrides: ReadonlySet<string> = new Set(['TEMPORAL_API_KEY']);

const checkShape = Compile(ConfigSchema);

export interface LoadOptions {
  /**
   * false for processes that never see a webhook or a browser (the worker): they are not handed
   * the webhook or sign-in secrets.
   */
  webhookSecrets?: boolean;
  /** Merged into the parsed file before anything else reads it (src/config/overlay.ts). */
  overlay?: ConfigOverlay;
}

export function loadConfig(env: NodeJS.ProcessEnv, options: LoadOptions = {}): GatehouseConfig {
  const file = resolve(env.GATEHOUSE_CONFIG ?? 'config/gatehouse.yaml');
  const raw = options.overlay === undefined ? parseYaml(file) : mergeOverlay(parseYaml(file), options.overlay);
  const envProblems = applyEnvOverrides(raw, env);
  const withDefaults = fillDefaults(ConfigSchema, raw);
  if (!checkShape.Check(withDefaults)) {
    const problems = checkShape.Errors(withDefaults).map((e) => `${e.instancePath || '/'}: ${e.message}`);
    throw new ConfigError(file, [...new Set(problems)]);
  }
  const shaped = withDefaults as GatehouseConfigFile;
  const problems = checkConfig(shaped, dirname(file));
  const secrets = new SecretResolver(env, (p) => resolve(dirname(file), p));
  const webhookSecrets =
    options.webhookSecrets === false ? new Map<string, HookSecrets>() : resolveWebhookSecrets(shaped, secrets);
  const signInSecrets =
    options.webhookSecrets === false || shaped.signIn === undefined
      ? undefined
      : resolveSignInSecrets(shaped.signIn, secrets);
  const logUrl = shaped.webhooks.deliveryLog.url;
  const deliveryLogUrl = logUrl === undefined ? undefined : secrets.resolve(logUrl, '/webhooks/deliveryLog/url');
  const temporal = readTemporalCredentials(shaped.temporal, {
    secrets,
    resolvePath: (p) => resolve(dirname(file), p),
    tlsTurnedOff: env.TEMPORAL_TLS === 'false',
  });
  problems.push(...envProblems, ...secrets.problems, ...temporal.problems);
  if (problems.length > 0) throw new ConfigError(file, problems);
  return {
    ...shaped,
    // An API key implies TLS: the loaded config says so, rather than each connection deciding.
    temporal: { ...shaped.temporal, ...(temporal.tls === undefined ? {} : { tls: shaped.temporal.tls ?? {} }) },
    source: file,
    webhookSecrets,
    ...(deliveryLogUrl === undefined ? {} : { deliveryLogUrl }),
    ...(temporal.apiKey === undefined ? {} : { temporalApiKey: temporal.apiKey }),
    ...(temporal.tls === undefined ? {} : { temporalTls: temporal.tls }),
    ...(signInSecrets === undefined ? {} : { signInSecrets }),
  };
}

function resolveSignInSecrets(signIn: SignInConfig, secrets: SecretResolver): SignInSecrets | undefined {
  const sessionKeys = secrets.resolve(signIn.sessionKeys, '/signIn/sessionKeys');
  const cookieKeys = secrets.resolveAll(signIn.cookieKeys, '/signIn/cookieKeys');
  const clientSecret =
    signIn.clientSecret === undefined ? undefined : secrets.resolve(signIn.clientSecret, '/signIn/clientSecret');
  if (sessionKeys === undefined || cookieKeys.length !== signIn.cookieKeys.length) return undefined;
  return { sessionKeys, cookieKeys, ...(clientSecret === undefined ? {} : { clientSecret }) };
}

/** Writes the set environment overrides into the parsed file; returns what is wrong with them. */
function applyEnvOverrides(raw: Record<string, unknown>, env: NodeJS.ProcessEnv): string[] {
  const problems: string[] = [];
  for (const [name, path] of envOverrides) {
    const value = env[name];
    if (value === undefined || value === '') continue;
    const parent = path
      .slice(0, -1)
      .reduce<Record<string, unknown>>((node, key) => (node[key] ??= {}) as Record<string, unknown>, raw);
    const key = path.at(-1)!;
    if (switchOverrides.has(name)) {
      if (value === 'true') parent[key] ??= {};
      else if (value === 'false') delete parent[key];
      else problems.push(`${name}: expected true or false, not "${value}"`);
    } else if (listOverrides.has(name)) {
      parent[key] = value
        .split(',')
        .map((item) => item.trim())
        .filter(Boolean);
    } else if (pathOverrides.has(name)) {
      parent[key] = resolve(value);
    } else if (secretOverrides.has(name)) {
      parent[key] = { env: name };
    } else {
      parent[key] = value;
    }
  }
  // Applied in table order, so TEMPORAL_TLS=false has already run when a TEMPORAL_TLS_* variable
  // brings a tls section back: the two contradict each other.
  if (env.TEMPORAL_TLS === 'false') {
    const set = envOverrides
      .map(([name]) => name)
      .filter((name) => name.startsWith('TEMPORAL_TLS_') && (env[name] ?? '') !== '');
    if (set.length > 0) problems.push(`TEMPORAL_TLS: false contradicts ${set.join(', ')}`);
  }
  return problems;
}

/**
 * The schema's defaults, filled in everywhere: TypeBox fills objects and arrays but does not
 * descend into Record values (routes, hooks), so those are filled one by one.
 */
function fillDefaults(schema: TSchema, value: unknown): unknown {
  const filled = Value.Default(schema, value);
  const node = schema as { properties?: Record<string, TSchema>; patternProperties?: Record<string, TSchema> };
  if (filled === null || typeof filled !== 'object' || Array.isArray(filled)) return filled;
  const record = filled as Record<string, unknown>;
  if (node.patternProperties !== undefined) {
    const [valueSchema] = Object.values(node.patternProperties);
    if (valueSchema !== undefined)
      for (const key of Object.keys(record)) record[key] = fillDefaults(valueSchema, record[key]);
  }
  for (const [key, child] of Object.entries(node.properties ?? {})) {
    if (record[key] !== undefined) record[key] = fillDefaults(child, record[key]);
  }
  return record;
}

/** Every hook's secrets, resolved now; a missing one is a start-up error naming the hook. */
function resolveWebhookSecrets(config: GatehouseConfigFile, secrets: SecretResolver): Map<string, HookSecrets> {
  const resolved = new Map<string, HookSecrets>();
  for (const provider of providerNames) {
    for (const [hook, hookConfig] of Object.entries(config.webhooks[provider] ?? {})) {
      const at = `/webhooks/${provider}/${hook}`;
      resolved.set(`${provider}/${hook}`, {
        secrets: secrets.resolveAll(hookConfig.secrets, `${at}/secrets`),
        signingSecrets: secrets.resolveAll(hookConfig.signingSecrets, `${at}/signingSecrets`),
      });
    }
  }
  return resolved;
}

/** Resolves a path named in the config file against the file's folder. */
export function configPath(config: Pick<GatehouseConfig, 'source'>, path: string): string {
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
    throw new ConfigError(
      file,
      document.errors.map((e) => `YAML: ${e.message}`),
    );
  }
  const value: unknown = document.toJS();
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new ConfigError(file, ['/: expected a mapping at the top level']);
  }
  return value as Record<string, unknown>;
}
