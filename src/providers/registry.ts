// The provider registry: adding a Git provider is one folder (src/providers/<name>/) and one line
// here. The config schema (webhook hooks, status APIs, reconcile blocks), the webhook routes, the
// job sources, the status reporter and the reconciler all read this table.
import { bitbucket } from './bitbucket/index.js';
import { gitea } from './gitea/index.js';
import { github } from './github/index.js';
import { gitlab } from './gitlab/index.js';
import type { Provider } from './provider.js';
import type { ReconcilerCapability } from './reconciler.js';

export const providers = { github, gitlab, gitea, bitbucket } satisfies Record<string, Provider>;

export type ProviderName = keyof typeof providers;

export const providerNames = Object.keys(providers) as ProviderName[];

export function isProviderName(name: string): name is ProviderName {
  return Object.hasOwn(providers, name);
}

/** The provider's reconciler, when its API can find missed deliveries. */
export function reconcilerOf(name: ProviderName): ReconcilerCapability | undefined {
  return (providers[name] as Provider).reconciler;
}

/** Where a job came from: `api`, or the provider whose webhook started it (GatehouseSource). */
export const jobSources = ['api', ...providerNames] as const;
export type JobSource = 'api' | ProviderName;
