// CI concurrency: which older runs a newer one supersedes (GatehouseRef).
import type { CiEvent } from './git-event.js';
import type { Identity } from './identity.js';

/**
 * The concurrency key: which older runs a newer one supersedes. Pushes are keyed by repository and
 * branch, pull requests by repository and number; both within one sender scope: the same webhook
 * hook, or for API jobs the same caller. So a fork's PR named `main` never cancels real `main`
 * builds, and one caller never cancels another's.
 */
export function concurrencyKey(identity: Identity, event: CiEvent): string | undefined {
  const scope = identity.method === 'webhook' ? `webhook:${identity.provider}/${identity.hook}` : identity.principal;
  const repository = event.repository.fullName;
  if (event.kind === 'pull_request' && event.pullRequest !== undefined)
    return `${scope}|${repository}|pr:${event.pullRequest.number}`;
  if (event.branch !== undefined) return `${scope}|${repository}|branch:${event.branch}`;
  return undefined;
}
