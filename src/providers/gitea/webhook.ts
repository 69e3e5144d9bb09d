// Gitea and Forgejo (Forgejo sends both header families): X-Forgejo-Signature / X-Gitea-Signature
// is the hex HMAC-SHA256 of the raw body with no prefix. A replay from the UI gets a new delivery
// id, so it is a new delivery here too.
import { at, header, opt, parseJsonBody, str, type NormalizedPayload, type WebhookAdapter } from '../provider.js';
import {
  githubStyleComment,
  githubStylePullRequest,
  githubStylePush,
  matchesGitHubStyleEvent,
} from '../github-style.js';
import { verifySha256Signature } from '../verify-hmac.js';

const pullRequestActions: Record<string, string> = { synchronized: 'synchronize' };

export const giteaWebhook: WebhookAdapter = {
  sampledHeaders: ['x-gitea-event', 'x-gitea-delivery', 'x-forgejo-event', 'x-forgejo-delivery'],
  readDelivery(headers) {
    const event = header(headers, 'x-forgejo-event') ?? header(headers, 'x-gitea-event');
    const deliveryId = header(headers, 'x-forgejo-delivery') ?? header(headers, 'x-gitea-delivery');
    if (event === undefined || deliveryId === undefined) return undefined;
    return { event, deliveryId };
  },
  looksSigned(headers) {
    return /^[0-9a-fA-F]{64}$/.test(
      header(headers, 'x-forgejo-signature') ?? header(headers, 'x-gitea-signature') ?? '',
    );
  },
  matchesEvent: matchesGitHubStyleEvent,
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
      case 'push':
        return githubStylePush(p, common);
      case 'pull_request':
        return githubStylePullRequest(p, common, pullRequestActions);
      case 'issue_comment':
      case 'pull_request_comment': {
        const onPullRequest =
          event === 'pull_request_comment' || at(p, 'is_pull') === true || at(p, 'issue', 'pull_request') != null;
        return githubStyleComment(common, action, at(p, 'issue', 'number'), onPullRequest);
      }
      default:
        return { ...common, kind: 'other', ...opt('action', action) };
    }
  },
};
