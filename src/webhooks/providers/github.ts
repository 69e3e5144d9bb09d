// GitHub (github.com, GitHub Enterprise Server, GitHub Apps): X-Hub-Signature-256 over the raw body.
// The legacy SHA-1 X-Hub-Signature is not accepted. Deliveries may be JSON or form-encoded with
// the JSON in a `payload` field; the signature covers the body as sent either way.
import { at, header, opt, parseJsonBody, PayloadError, refParts, str, type NormalizedPayload, type ProviderAdapter } from '../provider.js';
import { verifySha256Signature } from '../verify-hmac.js';

export const github: ProviderAdapter = {
  name: 'github',
  readDelivery(headers) {
    const event = header(headers, 'x-github-event');
    const deliveryId = header(headers, 'x-github-delivery');
    if (event === undefined || deliveryId === undefined) return undefined;
    const providerHookId = header(headers, 'x-github-hook-id');
    return { event, deliveryId, ...(providerHookId === undefined ? {} : { providerHookId }) };
  },
  verify(headers, raw, { secrets }) {
    return verifySha256Signature(raw, header(headers, 'x-hub-signature-256'), secrets);
  },
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
      case 'push': {
        const parts = refParts(str(at(p, 'ref')));
        return {
          ...common, ...parts, kind: parts.tag === undefined ? 'push' : 'tag',
          ...opt('before', str(at(p, 'before'))), ...opt('after', str(at(p, 'after'))),
        };
      }
      case 'pull_request': {
        const merged = action === 'closed' && at(p, 'pull_request', 'merged') === true;
        return {
          ...common, kind: 'pull_request', action: merged ? 'merged' : action ?? 'unknown',
          ...refParts(str(at(p, 'pull_request', 'head', 'ref')) === undefined ? undefined : `refs/heads/${str(at(p, 'pull_request', 'head', 'ref'))}`),
          ...opt('after', str(at(p, 'pull_request', 'head', 'sha'))),
          pullRequest: {
            number: Number(at(p, 'pull_request', 'number') ?? at(p, 'number')),
            ...opt('title', str(at(p, 'pull_request', 'title'))),
            ...opt('sourceBranch', str(at(p, 'pull_request', 'head', 'ref'))),
            ...opt('targetBranch', str(at(p, 'pull_request', 'base', 'ref'))),
            ...opt('headSha', str(at(p, 'pull_request', 'head', 'sha'))),
            ...opt('url', str(at(p, 'pull_request', 'html_url'))),
          },
        };
      }
      case 'issue_comment':
      case 'pull_request_review_comment':
      case 'commit_comment': {
        const number = at(p, 'issue', 'number') ?? at(p, 'pull_request', 'number');
        const onPullRequest = event === 'pull_request_review_comment' || at(p, 'issue', 'pull_request') !== undefined;
        return {
          ...common, kind: 'comment', action: action ?? 'created',
          ...(onPullRequest && typeof number === 'number' ? { pullRequest: { number } } : {}),
        };
      }
      default:
        return { ...common, kind: 'other', ...opt('action', action) };
    }
  },
};
