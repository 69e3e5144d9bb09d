// Gitea and Forgejo (Forgejo sends both header families): X-Forgejo-Signature / X-Gitea-Signature
// is the hex HMAC-SHA256 of the raw body with no prefix. A replay from the UI gets a new delivery
// id, so it is a new delivery here too.
import { at, header, opt, parseJsonBody, refParts, str, type NormalizedPayload, type ProviderAdapter } from '../provider.js';
import { verifySha256Signature } from '../verify-hmac.js';

const pullRequestActions: Record<string, string> = { synchronized: 'synchronize' };

export const gitea: ProviderAdapter = {
  name: 'gitea',
  readDelivery(headers) {
    const event = header(headers, 'x-forgejo-event') ?? header(headers, 'x-gitea-event');
    const deliveryId = header(headers, 'x-forgejo-delivery') ?? header(headers, 'x-gitea-delivery');
    if (event === undefined || deliveryId === undefined) return undefined;
    return { event, deliveryId };
  },
  verify(headers, raw, { secrets }) {
    const signature = header(headers, 'x-forgejo-signature') ?? header(headers, 'x-gitea-signature');
    return verifySha256Signature(raw, signature === undefined ? undefined : `sha256=${signature}`, secrets);
  },
  parse: (raw) => parseJsonBody(raw),
  normalize(event, p) {
    const common: Pick<NormalizedPayload, 'repository' | 'sender'> = {
      repository: {
        fullName: str(at(p, 'repository', 'full_name')) ?? '',
        ...opt('cloneUrl', str(at(p, 'repository', 'clone_url'))),
        ...opt('htmlUrl', str(at(p, 'repository', 'html_url'))),
      },
      sender: {
        login: str(at(p, 'sender', 'login')) ?? str(at(p, 'sender', 'username')) ?? 'unknown',
        ...opt('id', str(at(p, 'sender', 'id'))),
        ...opt('name', str(at(p, 'sender', 'full_name'))),
      },
    };
    const action = str(at(p, 'action'));
    switch (event) {
      case 'push': {
        const parts = refParts(str(at(p, 'ref')));
        return {
          ...common, ...parts, kind: parts.tag === undefined ? 'push' : 'tag',
          ...opt('before', str(at(p, 'before'))), ...opt('after', str(at(p, 'after'))),
        };
      }
      case 'pull_request': {
        const merged = action === 'closed' && at(p, 'pull_request', 'merged') === true;
        const head = str(at(p, 'pull_request', 'head', 'ref'));
        return {
          ...common, kind: 'pull_request', action: merged ? 'merged' : action === undefined ? 'unknown' : pullRequestActions[action] ?? action,
          ...refParts(head === undefined ? undefined : `refs/heads/${head}`),
          ...opt('after', str(at(p, 'pull_request', 'head', 'sha'))),
          pullRequest: {
            number: Number(at(p, 'pull_request', 'number') ?? at(p, 'number')),
            ...opt('title', str(at(p, 'pull_request', 'title'))),
            ...opt('sourceBranch', head),
            ...opt('targetBranch', str(at(p, 'pull_request', 'base', 'ref'))),
            ...opt('headSha', str(at(p, 'pull_request', 'head', 'sha'))),
            ...opt('url', str(at(p, 'pull_request', 'html_url'))),
          },
        };
      }
      case 'issue_comment':
      case 'pull_request_comment': {
        const number = at(p, 'issue', 'number');
        const onPullRequest = event === 'pull_request_comment' || at(p, 'is_pull') === true || at(p, 'issue', 'pull_request') != null;
        return { ...common, kind: 'comment', action: action ?? 'created', ...(onPullRequest && typeof number === 'number' ? { pullRequest: { number } } : {}) };
      }
      default:
        return { ...common, kind: 'other', ...opt('action', action) };
    }
  },
};
