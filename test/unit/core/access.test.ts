// The principal model and the one access module: owners are issuer-qualified principals built
// from immutable ids, so a lookalike subject from another issuer, or a token whose `sub` is a
// webhook sender's principal, is somebody else.
import { describe, expect, it } from 'vitest';
import { identityFromClaims } from '../../../src/bridge/auth/identity-from-claims.js';
import { GatehouseError } from '../../../src/bridge/errors.js';
import {
  isAdmin,
  mayActOnJob,
  mayAskPolicyFor,
  mayCallRoute,
  mayLookUpDeliveries,
  ownerScope,
  type Caller,
} from '../../../src/core/access.js';
import { isPrincipal, jwtPrincipal, webhookPrincipal } from '../../../src/core/principal.js';

const names = { groups: 'groups', roles: 'roles' };
const rules = { adminGroups: ['admins'] };

describe('identityFromClaims', () => {
  it('builds the issuer-qualified principal and keeps groups, roles and scopes apart', () => {
    const identity = identityFromClaims(
      {
        iss: 'https://idp',
        sub: 'alice',
        name: 'Alice',
        email: 'a@x',
        jti: 't1',
        groups: ['dev', 'ops'],
        roles: 'admins',
        scope: 'openid jobs:read',
        scp: ['jobs:write'],
      },
      names,
    );
    expect(identity).toEqual({
      method: 'jwt',
      principal: 'jwt:https://idp#alice',
      issuer: 'https://idp',
      subject: 'alice',
      name: 'Alice',
      email: 'a@x',
      tokenId: 't1',
      groups: ['dev', 'ops'],
      roles: ['admins'],
      scopes: ['openid', 'jobs:read', 'jobs:write'],
    });
    // A role named like the admin group grants nothing: admins are named by group only.
    expect(isAdmin(identity, rules)).toBe(false);
  });

  it('reads groups from a configured claim name and ignores non-string members', () => {
    const identity = identityFromClaims(
      { iss: 'i', sub: 's', 'https://example/groups': ['a', 3, null] },
      { groups: 'https://example/groups', roles: 'roles' },
    );
    expect(identity.groups).toEqual(['a']);
  });

  it('refuses a missing, empty or oversized subject', () => {
    for (const sub of [undefined, '', 'x'.repeat(256)]) {
      expect(() => identityFromClaims({ iss: 'i', sub }, names)).toThrow(GatehouseError);
    }
  });
});

describe('principals', () => {
  it('qualify the subject by issuer, and senders by instance and account id', () => {
    expect(jwtPrincipal('https://idp', 'alice')).toBe('jwt:https://idp#alice');
    expect(webhookPrincipal('github', '21031067')).toBe('webhook:github:21031067');
    expect(isPrincipal('webhook:bitbucket:557058:abc')).toBe(true);
    expect(isPrincipal('github:Codertocat')).toBe(false);
    expect(isPrincipal('*')).toBe(false);
  });
});

const caller = (over: Partial<Caller> = {}): Caller => ({
  principal: 'jwt:https://idp#s',
  groups: [],
  roles: [],
  scopes: [],
  ...over,
});
const access = { groups: ['deployers'], roles: ['release-manager'], scopes: ['jobs:deploy'], anyAuthenticated: false };

describe('the access module', () => {
  it('admits to a route by group, role, scope, admin or anyAuthenticated, and no one else', () => {
    expect(mayCallRoute(caller({ groups: ['deployers'] }), access, rules)).toBe(true);
    expect(mayCallRoute(caller({ roles: ['release-manager'] }), access, rules)).toBe(true);
    expect(mayCallRoute(caller({ scopes: ['jobs:deploy'] }), access, rules)).toBe(true);
    expect(mayCallRoute(caller({ groups: ['admins'] }), access, rules)).toBe(true);
    expect(mayCallRoute(caller(), { ...access, anyAuthenticated: true }, rules)).toBe(true);
    expect(mayCallRoute(caller({ groups: ['dev'], roles: ['deployers'], scopes: ['jobs:read'] }), access, rules)).toBe(
      false,
    );
  });

  it('lets only the owning principal and admins act on a job', () => {
    const owner = 'jwt:https://idp#s';
    expect(mayActOnJob(caller(), owner, rules)).toBe(true);
    // Same subject, another issuer: someone else.
    expect(mayActOnJob(caller({ principal: 'jwt:https://other#s' }), owner, rules)).toBe(false);
    // A token whose sub spells a webhook sender's principal is still a jwt principal.
    const lookalike = identityFromClaims({ iss: 'https://idp', sub: 'webhook:github:21031067' }, names);
    expect(mayActOnJob(lookalike, 'webhook:github:21031067', rules)).toBe(false);
    expect(mayActOnJob(caller({ groups: ['admins'] }), 'webhook:github:1', rules)).toBe(true);
    expect(mayActOnJob(caller({ groups: ['admins'] }), undefined, rules)).toBe(false);
  });

  it('scopes listings and usage to the caller; another owner or everyone only for admins', () => {
    expect(ownerScope(caller(), undefined, rules)).toBe('jwt:https://idp#s');
    expect(ownerScope(caller(), 'jwt:https://idp#s', rules)).toBe('jwt:https://idp#s');
    expect(ownerScope(caller(), 'webhook:github:21031067', rules)).toBeUndefined();
    expect(ownerScope(caller(), '*', rules)).toBeUndefined();
    expect(ownerScope(caller({ groups: ['admins'] }), '*', rules)).toBe('*');
  });

  it('keeps deliveries and policy questions about others for admins', () => {
    expect(mayLookUpDeliveries(caller(), rules)).toBe(false);
    expect(mayLookUpDeliveries(caller({ groups: ['admins'] }), rules)).toBe(true);
    expect(mayAskPolicyFor(caller(), undefined, rules)).toBe(true);
    expect(mayAskPolicyFor(caller(), 'jwt:https://idp#s', rules)).toBe(true);
    expect(mayAskPolicyFor(caller(), 'webhook:github:1', rules)).toBe(false);
    expect(mayAskPolicyFor(caller({ groups: ['admins'] }), 'webhook:github:1', rules)).toBe(true);
  });
});
