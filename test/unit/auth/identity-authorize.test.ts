import { describe, expect, it } from 'vitest';
import type { Identity } from '../../../activities/types.js';
import { isAdmin, mayCallRoute, maySeeJob } from '../../../src/auth/authorize.js';
import { identityFromClaims } from '../../../src/auth/identity.js';
import { GatehouseError } from '../../../src/errors.js';

const names = { groups: 'groups', roles: 'roles' };

describe('identityFromClaims', () => {
  it('collects groups and roles, and scopes from both scope and scp', () => {
    const identity = identityFromClaims({
      iss: 'https://idp', sub: 'alice', name: 'Alice', email: 'a@x', jti: 't1',
      groups: ['dev', 'ops'], roles: 'ops', scope: 'openid jobs:read', scp: ['jobs:write'],
    }, names);
    expect(identity).toEqual({
      method: 'jwt', issuer: 'https://idp', subject: 'alice', name: 'Alice', email: 'a@x', tokenId: 't1',
      groups: ['dev', 'ops'], scopes: ['openid', 'jobs:read', 'jobs:write'],
    });
  });

  it('reads groups from a configured claim name and ignores non-string members', () => {
    const identity = identityFromClaims({ iss: 'i', sub: 's', 'https://example/groups': ['a', 3, null] }, { groups: 'https://example/groups', roles: 'roles' });
    expect(identity.groups).toEqual(['a']);
  });

  it('refuses a missing, empty or oversized subject', () => {
    for (const sub of [undefined, '', 'x'.repeat(256)]) {
      expect(() => identityFromClaims({ iss: 'i', sub }, names)).toThrow(GatehouseError);
    }
  });
});

const caller = (over: Partial<Identity> = {}): Identity => ({ method: 'jwt', issuer: 'i', subject: 's', groups: [], scopes: [], ...over });
const access = { groups: ['deployers'], scopes: ['jobs:deploy'], anyAuthenticated: false };

describe('route access and job visibility', () => {
  it('admits by group, scope, admin or anyAuthenticated, and no one else', () => {
    expect(mayCallRoute(caller({ groups: ['deployers'] }), access, ['admins'])).toBe(true);
    expect(mayCallRoute(caller({ scopes: ['jobs:deploy'] }), access, ['admins'])).toBe(true);
    expect(mayCallRoute(caller({ groups: ['admins'] }), access, ['admins'])).toBe(true);
    expect(mayCallRoute(caller(), { ...access, anyAuthenticated: true }, [])).toBe(true);
    expect(mayCallRoute(caller({ groups: ['dev'], scopes: ['jobs:read'] }), access, ['admins'])).toBe(false);
  });

  it('shows a job to its owner (same issuer and subject) and to admins only', () => {
    expect(maySeeJob(caller(), { issuer: 'i', subject: 's' }, [])).toBe(true);
    expect(maySeeJob(caller(), { issuer: 'other', subject: 's' }, [])).toBe(false);
    expect(maySeeJob(caller(), { issuer: 'i', subject: 't' }, [])).toBe(false);
    expect(maySeeJob(caller({ groups: ['admins'] }), { issuer: 'x', subject: 'y' }, ['admins'])).toBe(true);
    expect(maySeeJob(caller({ groups: ['admins'] }), undefined, ['admins'])).toBe(false);
    expect(isAdmin(caller({ groups: ['dev'] }), ['admins'])).toBe(false);
  });
});
