// GitHub (github.com, GitHub Enterprise Server, GitHub Apps): X-Hub-Signature-256 over the raw body.
// The legacy SHA-1 X-Hub-Signature is not accepted. Deliveries may be JSON or form-encoded with
// the JSON in a `payload` field; the signature covers the body as sent either way.
import {
  at,
  header,
  opt,
  parseJsonBody,
  PayloadError,
  str,
  type NormalizedPayload,
  type WebhookAdapter,
} from '../provider.js';
import {
  githubStyleComment,
  githubStylePullRequest,
  githubStylePush,
  matchesGitHubStyleEvent,
} from '../github-style.js';
import { sha256SignaturePattern, verifySha256Signature } from '../verify-hmac.js';

export const githubWebhook: WebhookAdapter = {
  sampledHeaders: ['x-github-event', 'x-github-delivery', 'x-github-hook-id'],
  readDelivery(headers) {
    const event = header(headers, 'x-github-event');
    const deliveryId = header(headers, 'x-github-delivery');
    if (event === undefined || deliveryId === undefined) return undefined;
    const providerHookId = header(headers, 'x-github-hook-id');
    return { event, deliveryId, ...(providerHookId === undefined ? {} : { providerHookId }) };
  },
  looksSigned(headers) {
    return sha256SignaturePattern.test(header(headers, 'x-hub-signature-256') ?? '');
  },
  verify(headers, raw, { secrets }) {
    return verifySha256Signature(raw, header(headers, 'x-hub-signature-256'), secrets);
  },
  matchesEvent: matchesGitHubStyleEvent,
  parse(raw, contentType) {
    if (contentType.startsWith('application/x-www-form-urlencoded')) {
      const payload = new URLSearchParams(raw.toString('utf8')).get('payload');
      if (payload === null) throw new PayloadError('form-encoded delivery without a payload field');
      return JSON.parse(payload);
    }
    return parseJsonBody(raw);
  },
  normalize(event, p) {
    if (event === 'ping') return 'ping';
    const common: Pick<NormalizedPayload, 'repository' | 'sender'> = {
      repository: {
        fullName: str(at(p, 'repository', 'full_name')) ?? '',
        ...opt('cloneUrl', str(at(p, 'repository', 'clone_url'))),
        ...opt('htmlUrl', str(at(p, 'repository', 'html_url'))),
      },
      sender: { login: str(at(p, 'sender', 'login')) ?? 'unknown', ...opt('id', str(at(p, 'sender', 'id'))) },
    };
    const action = str(at(p, 'action'));
    switch (event) {
      case 'push':
        return githubStylePush(p, common);
      case 'pull_request':
        return githubStylePullRequest(p, common);
      case 'issue_comment':
      case 'pull_request_review_comment':
      case 'commit_comment': {
        const number = at(p, 'issue', 'number') ?? at(p, 'pull_request', 'number');
        const onPullRequest = event === 'pull_request_review_comment' || at(p, 'issue', 'pull_request') !== undefined;
        return githubStyleComment(common, action, number, onPullRequest);
      }
      default:
        return { ...common, kind: 'other', ...opt('action', action) };
    }
  },
};
