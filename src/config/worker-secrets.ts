// The secrets only workers hold: status-API tokens, the Argo token, the reconciler's credentials,
// each callback receiver's signing key and the ledger's connection string. Resolved by the worker at
// start-up (and by `check-config`), never by the bridge; a missing one is a ConfigError naming
// its path, found before anything is opened.
import { dirname, resolve } from 'node:path';
import type { SecretReference } from '../core/config-values.js';
import type { Secret } from '../core/secret.js';
import type { ReconcileBlock } from '../providers/reconciler.js';
import { providerNames, reconcilerOf, type ProviderName } from '../providers/registry.js';
import { signingSecretProblem } from './callbacks.js';
import { ConfigError, type GatehouseConfig } from './load-config.js';
import { SecretResolver } from './secrets.js';

export interface WorkerSecrets {
  statusApis: Partial<Record<ProviderName, { apiUrl: string; token: Secret }>>;
  argoToken?: Secret;
  /**
   * The reconciler's credentials by `provider/hook`, each by its path in the hook's reconcile block
   * (an API token, a GitHub App's private key: src/providers/<name>/reconciler.ts).
   */
  reconcile: Map<string, Map<string, Secret>>;
  /** Each callback receiver's Standard Webhooks key, by receiver name (callbacks.receivers.<name>.secret). */
  callbackKeys: Map<string, Secret>;
  /** The ledger's PostgreSQL connection string (ledger.url), for the billing activities. */
  ledgerUrl?: Secret;
}

/** Every environment variable the config names as a secret: none may stay in a worker's environment. */
export function secretEnvNames(config: GatehouseConfig): string[] {
  const refs = [
    ...providerNames.flatMap((provider) => {
      const api = config.ci.statusApis[provider];
      const hooks = Object.values(config.webhooks[provider] ?? {});
      return [
        ...(api === undefined ? [] : [api.token]),
        ...hooks.flatMap((hook) => [
          ...hook.secrets,
          ...(hook.signingSecrets ?? []),
          ...Object.values(reconcileSecrets(provider, hook.reconcile)),
        ]),
      ];
    }),
    ...(config.ci.argo.token === undefined ? [] : [config.ci.argo.token]),
    ...(config.ledger.url === undefined ? [] : [config.ledger.url]),
    ...(config.webhooks.deliveryLog.url === undefined ? [] : [config.webhooks.deliveryLog.url]),
    ...(config.temporal.apiKey === undefined ? [] : [config.temporal.apiKey]),
    ...Object.values(config.callbacks.receivers).map((receiver) => receiver.secret),
  ];
  return [...new Set(refs.flatMap((ref) => ('env' in ref ? [ref.env] : [])))];
}

/** The secrets a hook's reconcile block names, by their path inside it (none without a reconciler). */
function reconcileSecrets(provider: ProviderName, block: ReconcileBlock | undefined): Record<string, SecretReference> {
  const reconciler = reconcilerOf(provider);
  return block === undefined || reconciler === undefined ? {} : reconciler.secrets(block);
}

/** `statusApis`/`argo`/`reconcile`/`callback`/`ledger` false: that worker needs no such secret and is not handed it. */
export function resolveWorkerSecrets(
  config: GatehouseConfig,
  env: NodeJS.ProcessEnv,
  need: { statusApis: boolean; argo: boolean; reconcile: boolean; callback: boolean; ledger?: boolean } = {
    statusApis: true,
    argo: true,
    reconcile: true,
    callback: true,
    ledger: true,
  },
): WorkerSecrets {
  const secrets = new SecretResolver(env, (p) => resolve(dirname(config.source), p));
  const statusApis: WorkerSecrets['statusApis'] = {};
  for (const provider of providerNames) {
    const api = need.statusApis ? config.ci.statusApis[provider] : undefined;
    const token = api === undefined ? undefined : secrets.resolve(api.token, `/ci/statusApis/${provider}/token`);
    if (api !== undefined && token !== undefined) statusApis[provider] = { apiUrl: api.apiUrl, token };
  }
  const argoToken =
    !need.argo || config.ci.argo.token === undefined
      ? undefined
      : secrets.resolve(config.ci.argo.token, '/ci/argo/token');
  const reconcile: WorkerSecrets['reconcile'] = new Map();
  if (need.reconcile) {
    for (const provider of providerNames) {
      for (const [hook, hookConfig] of Object.entries(config.webhooks[provider] ?? {})) {
        const resolved = new Map<string, Secret>();
        for (const [path, ref] of Object.entries(reconcileSecrets(provider, hookConfig.reconcile))) {
          const secret = secrets.resolve(ref, `/webhooks/${provider}/${hook}/reconcile/${path}`);
          if (secret !== undefined) resolved.set(path, secret);
        }
        if (hookConfig.reconcile !== undefined) reconcile.set(`${provider}/${hook}`, resolved);
      }
    }
  }
  const callbackKeys = new Map<string, Secret>();
  for (const [name, receiver] of need.callback ? Object.entries(config.callbacks.receivers) : []) {
    const at = `/callbacks/receivers/${name}/secret`;
    const key = secrets.resolve(receiver.secret, at);
    const problem = key === undefined ? undefined : signingSecretProblem(key.reveal());
    if (problem !== undefined) secrets.problems.push(`${at}: ${problem}`);
    else if (key !== undefined) callbackKeys.set(name, key);
  }
  // Two receivers with one key could sign for each other, which is what keys of their own prevent.
  const byValue = new Map<string, string>();
  for (const [name, key] of callbackKeys) {
    const other = byValue.get(key.reveal());
    if (other !== undefined)
      secrets.problems.push(
        `/callbacks/receivers/${name}/secret: the same key as receiver ${other}; each receiver needs its own`,
      );
    byValue.set(key.reveal(), name);
  }
  const ledgerRef = need.ledger === true ? config.ledger.url : undefined;
  const ledgerUrl = ledgerRef === undefined ? undefined : secrets.resolve(ledgerRef, '/ledger/url');
  if (secrets.problems.length > 0) throw new ConfigError(config.source, secrets.problems);
  return {
    statusApis,
    reconcile,
    callbackKeys,
    ...(argoToken === undefined ? {} : { argoToken }),
    ...(ledgerUrl === undefined ? {} : { ledgerUrl }),
  };
}
