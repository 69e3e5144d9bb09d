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
});
