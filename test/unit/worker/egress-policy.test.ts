// The egress policy of network-enabled steps, with a resolver the test controls (no DNS).
import { describe, expect, it } from 'vitest';
import { createEgressPolicy, type Resolver } from '../../../src/worker/egress-policy.js';

const names: Record<string, string[]> = {
  'registry.npmjs.org': ['104.16.1.34', '2606:4700::6810:122'],
  'files.pypi.org': ['151.101.0.223'],
  'a.b.pypi.org': ['151.101.0.224'],
  'rebind.example': ['151.101.0.1', '127.0.0.1'],
  'metadata.example': ['169.254.169.254'],
  'mapped.example': ['::ffff:10.1.2.3'],
  'internal.example': ['10.20.0.5'],
  'v6local.example': ['fe80::1'],
};
const resolve: Resolver = async (host) => {
  const found = names[host];
  if (found === undefined) throw new Error('ENOTFOUND');
  return found.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
};
const policy = createEgressPolicy(
  {
    allow: [
      'registry.npmjs.org:443',
      '*.pypi.org:443',
      'rebind.example:443',
      'metadata.example:80',
      'mapped.example:443',
      'internal.example:443',
      'v6local.example:443',
      'missing.example:443',
      '127.0.0.1:8080',
      '[::1]:8081',
    ],
    deny: ['10.0.0.0/8', 'fc00::/7'],
  },
  resolve,
);

describe('the egress policy', () => {
  it('allows an allowed host and port at an address it resolved and checked', async () => {
    expect(await policy.check('registry.npmjs.org', 443)).toEqual({ ok: true, address: '104.16.1.34', family: 4 });
    expect(await policy.check('REGISTRY.npmjs.org.', 443)).toMatchObject({ ok: true });
    expect(await policy.check('files.pypi.org', 443)).toMatchObject({ ok: true, address: '151.101.0.223' });
  });

  it('refuses other ports, other hosts and more than one wildcard label', async () => {
    expect(await policy.check('registry.npmjs.org', 80)).toEqual({ ok: false, reason: 'not allowed' });
    expect(await policy.check('evil.example', 443)).toEqual({ ok: false, reason: 'not allowed' });
    expect(await policy.check('a.b.pypi.org', 443)).toEqual({ ok: false, reason: 'not allowed' });
    expect(await policy.check('pypi.org', 443)).toEqual({ ok: false, reason: 'not allowed' });
    // An address is not a name: 104.16.1.34 is only reachable as registry.npmjs.org.
    expect(await policy.check('104.16.1.34', 443)).toEqual({ ok: false, reason: 'not allowed' });
  });

  it('refuses a name when any address it resolves to is loopback, link-local (metadata) or a denied range', async () => {
    for (const host of ['rebind.example', 'mapped.example', 'internal.example', 'v6local.example'])
      expect(await policy.check(host, 443), host).toEqual({ ok: false, reason: 'refused address' });
    expect(await policy.check('metadata.example', 80)).toEqual({ ok: false, reason: 'refused address' });
    expect(await policy.check('missing.example', 443)).toEqual({ ok: false, reason: 'unresolved' });
  });

  it('takes an address the operator wrote down as meant, and only at its port', async () => {
    expect(await policy.check('127.0.0.1', 8080)).toEqual({ ok: true, address: '127.0.0.1', family: 4 });
    expect(await policy.check('[::1]', 8081)).toEqual({ ok: true, address: '::1', family: 6 });
    expect(await policy.check('::ffff:127.0.0.1', 8080)).toMatchObject({ ok: true, address: '127.0.0.1' });
    expect(await policy.check('127.0.0.1', 7233)).toEqual({ ok: false, reason: 'not allowed' });
    expect(await policy.check('127.0.0.2', 8080)).toEqual({ ok: false, reason: 'not allowed' });
  });

  it('fails to build from an entry that is not host:port or a range that is not a CIDR', () => {
    expect(() => createEgressPolicy({ allow: ['example.com'], deny: [] })).toThrow(/example.com/);
    expect(() => createEgressPolicy({ allow: [], deny: ['10.0.0.0'] })).toThrow(/CIDR/);
  });
});
