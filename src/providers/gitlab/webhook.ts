// GitLab: X-Gitlab-Token is the plain secret (compared in constant time). When signing tokens are
// configured, the Standard Webhooks signature (webhook-id, webhook-timestamp, webhook-signature)
// is required too, which also refuses replays older than the library's tolerance (5 minutes).
// The delivery id is Idempotency-Key (GitLab 17.4+, kept on resend), else X-Gitlab-Event-UUID.
import { Webhook } from 'standardwebhooks';
import {
  at,
  header,
  opt,
  own,
  parseJsonBody,
  refParts,
  str,
  type NormalizedPayload,
  type WebhookAdapter,
} from '../provider.js';
import { matchesToken } from '../verify-hmac.js';

const objectKinds: Record<string, string> = {
  'Push Hook': 'push',
  'Tag Push Hook': 'tag_push',
  'Merge Request Hook': 'merge_request',
  'Note Hook': 'note',
};

const pushKinds = new Set(['push', 'tag_push']);

const mergeRequestActions: Record<string, string> = {
  open: 'opened',
  reopen: 'reopened',
  update: 'synchronize',
  close: 'closed',
  merge: 'merged',
};

export const gitlabWebhook: WebhookAdapter = {
  sampledHeaders: ['x-gitlab-event', 'x-gitlab-event-uuid', 'x-gitlab-instance'],
  readDelivery(headers) {
    const event = header(headers, 'x-gitlab-event');
    const deliveryId = header(headers, 'idempotency-key') ?? header(headers, 'x-gitlab-event-uuid');
    if (event === undefined || deliveryId === undefined) return undefined;
    const providerHookId = header(headers, 'x-gitlab-webhook-uuid');
    return { event, deliveryId, ...(providerHookId === undefined ? {} : { providerHookId }) };
  },
  looksSigned(headers, { signingSecrets }) {
    const token = header(headers, 'x-gitlab-token') ?? '';
    if (token.length === 0 || token.length > 1024) return false;
    return signingSecrets.length === 0 || /^v1,[A-Za-z0-9+/=]{40,}/.test(header(headers, 'webhook-signature') ?? '');
  },
  // GitLab names the event in the payload too: they must agree, and a push (or tag push) payload
  // under any other event header is refused, not ignored.
  matchesEvent: (event, payload) => {
    const kind = own(objectKinds, event);
    if (kind === 'push') return payload.object_kind === 'push' || payload.event_name === 'push';
    if (kind === 'tag_push') return payload.object_kind === 'tag_push';
    if (pushKinds.has(String(payload.object_kind)) || pushKinds.has(String(payload.event_name))) return false;
    return kind === undefined || payload.object_kind === kind;
  },
  async verify(headers, raw, { secrets, signingSecrets }) {
    if (!matchesToken(header(headers, 'x-gitlab-token'), secrets)) return false;
    if (signingSecrets.length === 0) return true;
    const signed = {
      'webhook-id': header(headers, 'webhook-id') ?? '',
      'webhook-timestamp': header(headers, 'webhook-timestamp') ?? '',
      'webhook-signature': header(headers, 'webhook-signature') ?? '',
    };
    return signingSecrets.some((secret) => {
      try {
        new Webhook(secret.reveal()).verify(raw, signed);
        return true;
      } catch {
        return false;
      }
    });
  },
  parse: (raw) => parseJsonBody(raw),
  normalize(event, p) {
    const project = at(p, 'project');
    const common: Pick<NormalizedPayload, 'repository' | 'sender'> = {
      repository: {
        fullName: str(at(project, 'path_with_namespace')) ?? '',
        ...opt('cloneUrl', str(at(project, 'git_http_url'))),
        ...opt('htmlUrl', str(at(project, 'web_url'))),
      },
      sender: {
        login: str(at(p, 'user_username')) ?? str(at(p, 'user', 'username')) ?? 'unknown',
        ...opt('id', str(at(p, 'user_id')) ?? str(at(p, 'user', 'id'))),
        ...opt('name', str(at(p, 'user_name')) ?? str(at(p, 'user', 'name'))),
      },
    };
    switch (event) {
      case 'Push Hook':
      case 'Tag Push Hook':
        return {
          ...common,
          ...refParts(str(at(p, 'ref'))),
          kind: event === 'Tag Push Hook' ? 'tag' : 'push',
          ...opt('before', str(at(p, 'before'))),
          ...opt('after', str(at(p, 'after')) ?? str(at(p, 'checkout_sha'))),
        };
      case 'Merge Request Hook': {
        const mr = at(p, 'object_attributes');
        const action = str(at(mr, 'action'));
        const source = str(at(mr, 'source_branch'));
        return {
          ...common,
          kind: 'pull_request',
          action: action === undefined ? 'unknown' : (own(mergeRequestActions, action) ?? action),
          ...refParts(source === undefined ? undefined : `refs/heads/${source}`),
          ...opt('after', str(at(mr, 'last_commit', 'id'))),
          pullRequest: {
            number: Number(at(mr, 'iid')),
            ...opt('title', str(at(mr, 'title'))),
            ...opt('sourceBranch', source),
            ...opt('targetBranch', str(at(mr, 'target_branch'))),
            ...opt('headSha', str(at(mr, 'last_commit', 'id'))),
            ...opt('url', str(at(mr, 'url'))),
          },
        };
      }
      case 'Note Hook': {
        const iid = at(p, 'merge_request', 'iid');
        return {
          ...common,
          kind: 'comment',
          action: 'created',
          ...(typeof iid === 'number' ? { pullRequest: { number: iid } } : {}),
        };
      }
      default:
        return { ...common, kind: 'other' };
    }
  },
};
