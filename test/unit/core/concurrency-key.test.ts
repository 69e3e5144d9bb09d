// The CI concurrency key: a newer run supersedes only runs of the same source, repository and
// branch or pull request; never another caller's, never a fork PR's namesake branch.
import { describe, expect, it } from 'vitest';
import { concurrencyKey } from '../../../src/core/concurrency-key.js';
import type { Identity } from '../../../src/core/identity.js';

const sender = (hook: string): Identity => ({
  method: 'webhook',
  principal: 'webhook:github:1',
  issuer: 'webhook:github',
  subject: '1',
  groups: [],
  roles: [],
  scopes: [],
  provider: 'github',
  hook,
});
const caller = (sub: string): Identity => ({
  method: 'jwt',
  principal: `jwt:https://idp#${sub}`,
  issuer: 'https://idp',
  subject: sub,
  groups: [],
  roles: [],
  scopes: [],
});
const repository = { fullName: 'acme/api' };

describe('concurrencyKey', () => {
  it('keys pushes by hook, repository and branch, and pull requests by number', () => {
    expect(concurrencyKey(sender('default'), { repository, kind: 'push', branch: 'main' })).toBe(
      'webhook:github/default|acme/api|branch:main',
    );
    const forkPr = concurrencyKey(sender('default'), {
      repository,
      kind: 'pull_request',
      branch: 'main',
      pullRequest: { number: 7 },
    });
    expect(forkPr).toBe('webhook:github/default|acme/api|pr:7');
    expect(forkPr).not.toBe(concurrencyKey(sender('default'), { repository, kind: 'push', branch: 'main' }));
  });

  it('scopes by source: another hook, or an API caller, never shares a key', () => {
    const push = { repository, kind: 'push' as const, branch: 'main' };
    const keys = [
      concurrencyKey(sender('default'), push),
      concurrencyKey(sender('other'), push),
      concurrencyKey(caller('a'), push),
      concurrencyKey(caller('b'), push),
    ];
    expect(new Set(keys).size).toBe(4);
    // An API caller cannot claim a webhook scope by naming a provider and hook in the input.
    expect(concurrencyKey(caller('a'), { ...push, provider: 'github', hook: 'default' })).toBe(
      concurrencyKey(caller('a'), push),
    );
  });

  it('has no key for an event without branch or pull request', () => {
    expect(concurrencyKey(caller('a'), { repository, kind: 'tag' })).toBeUndefined();
  });
});
