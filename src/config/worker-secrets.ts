// The secrets only workers hold: status-API tokens, the Argo token, the reconciler's credentials
// and each callback receiver's signing key. Resolved by the worker at
// start-up (and by `check-config`), never by the bridge; a missing one is a ConfigError naming
// its path, found before anything is opened.
import { dirname, resolve } from 'node:path';
import type { Secret } from '../core/secret.js';
import { providerNames, type ProviderName } from '../providers/registry.js';
import { signingSecretProblem } from './callbacks.js';
import { ConfigError, type GatehouseConfig } from './load-config.js';
import { SecretResolver } from './secrets.js';

export interface WorkerSecrets {
  statusApis: Partial<Record<ProviderName, { apiUrl: string; token: Secret }>>;
  argoToken?: Secret;
  /** The reconciler's credentials by `provider/hook`: an API token, or a GitHub App's private key. */
  reconcile: Map<string, { token?: Secret; appPrivateKey?: Secret }>;
  /** Each callback receiver's Standard Webhooks key, by receiver name (callbacks.receivers.<name>.secret). */
  callbackKeys: Map<string, Secret>;
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
          ...(hook.reconcile?.token === undefined ? [] : [hook.reconcile.token]),
          ...(hook.reconcile !== undefined && 'app' in hook.reconcile && hook.reconcile.app !== undefined
            ? [hook.reconcile.app.privateKey]
            : []),
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

/** `statusApis`/`argo`/`reconcile`/`callback` false: that worker needs no such secret and is not handed it. */
export function resolveWorkerSecrets(
  config: GatehouseConfig,
  env: NodeJS.ProcessEnv,
  need: { statusApis: boolean; argo: boolean; reconcile: boolean; callback: boolean } = {
    statusApis: true,
    argo: true,
    reconcile: true,
    callback: true,
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
        const settings = hookConfig.reconcile;
        if (settings === undefined) continue;
        const at = `/webhooks/${provider}/${hook}/reconcile`;
        const app = 'app' in settings ? settings.app : undefined;
        const token = settings.token === undefined ? undefined : secrets.resolve(settings.token, `${at}/token`);
        const appPrivateKey = app === undefined ? undefined : secrets.resolve(app.privateKey, `${at}/app/privateKey`);
        reconcile.set(`${provider}/${hook}`, {
          ...(token === undefined ? {} : { token }),
          ...(appPrivateKey === undefined ? {} : { appPrivateKey }),
        });
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
  if (secrets.problems.length > 0) throw new ConfigError(config.source, secrets.problems);
  return {
    statusApis,
    reconcile,
    callbackKeys,
    ...(argoToken === undefined ? {} : { argoToken }),
  };
}
