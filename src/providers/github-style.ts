// Push and pull-request payloads in GitHub's shape, which Gitea and Forgejo copy on purpose: one
// normalizer for both. Each provider passes its own spelling of pull-request actions.
import { at, hasKeys, opt, own, refParts, str, type NormalizedPayload } from './provider.js';

/** The payload keys each GitHub-style event has (GitHub, Gitea, Forgejo); other events need none. */
export const githubStyleShapes: Record<string, readonly string[]> = {
  push: ['ref', 'before', 'after', 'repository'],
  pull_request: ['pull_request', 'repository'],
  issue_comment: ['issue', 'comment'],
  pull_request_review_comment: ['pull_request', 'comment'],
  pull_request_comment: ['pull_request', 'comment'],
  commit_comment: ['comment'],
};

/**
 * Whether the payload has the shape of `event`, and is not a push under another name: a signed
 * push body re-sent with another event header (which no rule may take) is refused, not ignored.
 * Only push payloads carry `ref`, `before` and `after` at the top (pull_request's synchronize has
 * `before` and `after`, not `ref`).
 */
export function matchesGitHubStyleEvent(event: string, payload: Record<string, unknown>): boolean {
  if (event !== 'push' && hasKeys(payload, githubStyleShapes.push)) return false;
  return hasKeys(payload, own(githubStyleShapes, event));
}

type Common = Pick<NormalizedPayload, 'repository' | 'sender'>;

export function githubStylePush(p: Record<string, unknown>, common: Common): NormalizedPayload {
  const parts = refParts(str(at(p, 'ref')));
  return {
    ...common,
    ...parts,
    kind: parts.tag === undefined ? 'push' : 'tag',
    ...opt('before', str(at(p, 'before'))),
    ...opt('after', str(at(p, 'after'))),
  };
}

export function githubStylePullRequest(
  p: Record<string, unknown>,
  common: Common,
  actionNames: Record<string, string> = {},
): NormalizedPayload {
  const action = str(at(p, 'action'));
  const merged = action === 'closed' && at(p, 'pull_request', 'merged') === true;
  const head = str(at(p, 'pull_request', 'head', 'ref'));
  const headSha = str(at(p, 'pull_request', 'head', 'sha'));
  return {
    ...common,
    kind: 'pull_request',
    action: merged ? 'merged' : action === undefined ? 'unknown' : (own(actionNames, action) ?? action),
    ...refParts(head === undefined ? undefined : `refs/heads/${head}`),
    ...opt('after', headSha),
    pullRequest: {
      number: Number(at(p, 'pull_request', 'number') ?? at(p, 'number')),
      ...opt('title', str(at(p, 'pull_request', 'title'))),
      ...opt('sourceBranch', head),
      ...opt('targetBranch', str(at(p, 'pull_request', 'base', 'ref'))),
      ...opt('headSha', headSha),
      ...opt('url', str(at(p, 'pull_request', 'html_url'))),
    },
  };
}

/** A comment event; it names a pull request only when it is on one. */
export function githubStyleComment(
  common: Common,
  action: string | undefined,
  number: unknown,
  onPullRequest: boolean,
): NormalizedPayload {
  return {
    ...common,
    kind: 'comment',
    action: action ?? 'created',
    ...(onPullRequest && typeof number === 'number' ? { pullRequest: { number } } : {}),
  };
}
