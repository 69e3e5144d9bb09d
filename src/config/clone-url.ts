// The clone-URL rule: a repository is cloned from the provider's configured web address (the
// hook's own `webUrl` for a webhook job, else `ci.webUrls.<provider>`) and its name, never from a
// URL a caller or a payload supplied.
import { isRepositoryName } from '../core/git-names.js';
import { isProviderName, providers, type ProviderName } from '../providers/registry.js';
import type { GatehouseConfigFile } from './schema.js';

export type CloneSource = Pick<GatehouseConfigFile, 'ci' | 'webhooks'>;

/** The provider's web address for a job: the hook's when the job came from one. */
export function webUrlFor(config: CloneSource, provider: string, hook?: string): string | undefined {
  if (!isProviderName(provider)) return undefined;
  const hookUrl = hook === undefined ? undefined : config.webhooks[provider]?.[hook]?.webUrl;
  return hookUrl ?? config.ci.webUrls[provider];
}

export function cloneUrlFor(
  config: CloneSource,
  provider: string,
  fullName: string,
  hook?: string,
): string | undefined {
  if (!isProviderName(provider)) return undefined;
  return cloneRule(provider, webUrlFor(config, provider, hook))(fullName);
}

/** The rule bound to one server: what a compiled hook keeps, so a delivery need not look it up. */
export function cloneRule(
  provider: ProviderName,
  webUrl: string | undefined,
): (fullName: string) => string | undefined {
  return (fullName) =>
    webUrl === undefined || !isRepositoryName(fullName) ? undefined : providers[provider].cloneUrl(webUrl, fullName);
}

/** Whether a payload's clone URL is on the configured server (same scheme, host and port). */
export function isOnHost(url: string, webUrl: string): boolean {
  try {
    return new URL(url).origin === new URL(webUrl).origin;
  } catch {
    return false;
  }
}
