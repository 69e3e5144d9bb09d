// Provider normalizers on hostile event names: prototype keys name no event or action.
import { describe, expect, it } from 'vitest';
import { providers } from '../../../src/providers/registry.js';

const payload = {
  repository: { full_name: 'acme/api' },
  actor: { account_id: '1' },
  object_attributes: { action: 'constructor' },
};

describe('normalizers', () => {
  it.each(['constructor', '__proto__', 'toString', 'hasOwnProperty'])(
    'treats a Bitbucket event named %s as other',
    (event) => {
      const normalized = providers.bitbucket.webhook.normalize(event, payload);
      expect(normalized).not.toBe('ping');
      expect(normalized).toMatchObject({ kind: 'other' });
    },
  );

  it('keeps an unknown GitLab merge-request action as sent, never a prototype member', () => {
    const normalized = providers.gitlab.webhook.normalize('Merge Request Hook', {
      ...payload,
      project: { path_with_namespace: 'a/b' },
    });
    expect(normalized).toMatchObject({ kind: 'pull_request', action: 'constructor' });
  });

  it('names the pull request of a comment only when the comment is on one', () => {
    const repository = { full_name: 'acme/api' };
    const onPr = {
      action: 'created',
      repository,
      sender: { id: 1, login: 'a' },
      issue: { number: 7, pull_request: {} },
      comment: {},
    };
    const onIssue = { ...onPr, issue: { number: 8 } };
    expect(providers.github.webhook.normalize('issue_comment', onPr)).toMatchObject({
      kind: 'comment',
      action: 'created',
      pullRequest: { number: 7 },
    });
    expect(providers.github.webhook.normalize('issue_comment', onIssue)).not.toHaveProperty('pullRequest');
    expect(providers.gitea.webhook.normalize('pull_request_comment', { ...onIssue, action: undefined })).toMatchObject({
      kind: 'comment',
      action: 'created',
      pullRequest: { number: 8 },
    });
  });
});
