// Bitbucket Cloud: X-Hub-Signature is `sha256=<hex>` (the header name GitHub uses for SHA-1; the
// check is chosen by this route, not by the header). One push delivery may carry several ref
// changes; the first one is the event, as Bitbucket's own UI shows it.
import {
  at,
  hasKeys,
  header,
  opt,
  parseJsonBody,
  str,
  type NormalizedPayload,
  type WebhookAdapter,
  own,
} from '../provider.js';
import { sha256SignaturePattern, verifySha256Signature } from '../verify-hmac.js';

const pullRequestActions: Record<string, string> = {
  'pullrequest:created': 'opened',
  'pullrequest:updated': 'synchronize',
  'pullrequest:fulfilled': 'merged',
  'pullrequest:rejected': 'closed',
};

export const bitbucketWebhook: WebhookAdapter = {
  sampledHeaders: ['x-event-key', 'x-request-uuid', 'x-hook-uuid'],
  readDelivery(headers) {
    const event = header(headers, 'x-event-key');
    const deliveryId = header(headers, 'x-request-uuid');
    if (event === undefined || deliveryId === undefined) return undefined;
    const providerHookId = header(headers, 'x-hook-uuid');
    return { event, deliveryId, ...(providerHookId === undefined ? {} : { providerHookId }) };
  },
  looksSigned(headers) {
    return sha256SignaturePattern.test(header(headers, 'x-hub-signature') ?? '');
  },
  // A push payload under any other event key is refused, not ignored.
  matchesEvent(event, payload) {
    const pushShaped = hasKeys(payload, ['push', 'repository']);
    if (event === 'repo:push') return pushShaped;
    if (pushShaped) return false;
    if (event.startsWith('pullrequest:')) return hasKeys(payload, ['pullrequest', 'repository']);
    return true;
  },
  verify(headers, raw, { secrets }) {
    return verifySha256Signature(raw, header(headers, 'x-hub-signature'), secrets);
  },
  parse: (raw) => parseJsonBody(raw),
  normalize(event, p) {
    if (event === 'diagnostics:ping') return 'ping';
    const fullName = str(at(p, 'repository', 'full_name')) ?? '';
    const common: Pick<NormalizedPayload, 'repository' | 'sender'> = {
      repository: {
        fullName,
        ...opt('htmlUrl', str(at(p, 'repository', 'links', 'html', 'href'))),
        ...(fullName === '' ? {} : { cloneUrl: `https://bitbucket.org/${fullName}.git` }),
      },
      sender: {
        login: str(at(p, 'actor', 'nickname')) ?? str(at(p, 'actor', 'username')) ?? 'unknown',
        ...opt('id', str(at(p, 'actor', 'account_id')) ?? str(at(p, 'actor', 'uuid'))),
        ...opt('name', str(at(p, 'actor', 'display_name'))),
      },
    };
    if (event === 'repo:push') {
      const changes = at(p, 'push', 'changes');
      const change = Array.isArray(changes) ? changes[0] : undefined;
      const target = at(change, 'new') ?? at(change, 'old');
      const isTag = str(at(target, 'type')) === 'tag';
      const name = str(at(target, 'name'));
      return {
        ...common,
        kind: isTag ? 'tag' : 'push',
        ...(name === undefined
          ? {}
          : isTag
            ? { ref: `refs/tags/${name}`, tag: name }
            : { ref: `refs/heads/${name}`, branch: name }),
        ...opt('before', str(at(change, 'old', 'target', 'hash'))),
        ...opt('after', str(at(change, 'new', 'target', 'hash'))),
      };
    }
    const action = own(pullRequestActions, event);
    if (action !== undefined) {
      const pr = at(p, 'pullrequest');
      const source = str(at(pr, 'source', 'branch', 'name'));
      return {
        ...common,
        kind: 'pull_request',
        action,
        ...(source === undefined ? {} : { ref: `refs/heads/${source}`, branch: source }),
        ...opt('after', str(at(pr, 'source', 'commit', 'hash'))),
        pullRequest: {
          number: Number(at(pr, 'id')),
          ...opt('title', str(at(pr, 'title'))),
          ...opt('sourceBranch', source),
          ...opt('targetBranch', str(at(pr, 'destination', 'branch', 'name'))),
          ...opt('headSha', str(at(pr, 'source', 'commit', 'hash'))),
          ...opt('url', str(at(pr, 'links', 'html', 'href'))),
        },
      };
    }
    if (event.startsWith('pullrequest:comment_')) {
      const id = at(p, 'pullrequest', 'id');
      return {
        ...common,
        kind: 'comment',
        action: event.slice('pullrequest:comment_'.length),
        ...(typeof id === 'number' ? { pullRequest: { number: id } } : {}),
      };
    }
    return { ...common, kind: 'other' };
  },
};
