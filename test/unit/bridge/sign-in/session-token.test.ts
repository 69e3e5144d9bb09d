// The bridge's check of a session cookie, and its cache: a session verified once is answered from
// the cache until its exp, exactly as a new check would answer it; a refused one is never kept.
import { describe, expect, it } from 'vitest';
import type { Identity } from '../../../../src/core/identity.js';
import { VerifiedTokenCache } from '../../../../src/bridge/auth/token-cache.js';
import { generateSessionKey, loadSessionKeys } from '../../../../src/bridge/sign-in/session-keys.js';
import { createSessionVerifier, mintSessionToken } from '../../../../src/bridge/sign-in/session-token.js';

const issuer = 'https://idp.test';
const claimNames = { groups: 'groups', roles: 'roles' };
const keys = await loadSessionKeys(JSON.stringify({ keys: [await generateSessionKey('s1')] }));
const mint = (options: { ttlSeconds?: number; now?: () => number; audience?: string } = {}) =>
  mintSessionToken(
    { iss: issuer, sub: 'ada', groups: ['maintainers'], roles: [] },
    { argo: '', temporal: '' },
    {
      keys,
      audience: [options.audience ?? 'gatehouse-session'],
      ttlSeconds: options.ttlSeconds ?? 300,
      sid: 'sid-1',
      claimNames,
      ...(options.now === undefined ? {} : { now: options.now }),
    },
  );

function verifier() {
  let lookups = { hit: 0, miss: 0 };
  const cache = new VerifiedTokenCache<Identity>({ maxEntries: 10, onLookup: (result) => (lookups[result] += 1) });
  const verify = createSessionVerifier(keys, {
    issuer,
    audience: 'gatehouse-session',
    clockToleranceSeconds: 30,
    claims: claimNames,
    cache,
  });
  return { verify, cache, lookups: () => lookups, reset: () => (lookups = { hit: 0, miss: 0 }) };
}

describe('createSessionVerifier with a cache', () => {
  it('answers a session it verified from the cache, as the same frozen identity', async () => {
    const v = verifier();
    const { token } = await mint();
    const first = await v.verify(token);
    expect(first).toMatchObject({ subject: 'ada', issuer, groups: ['maintainers'] });
    const second = await v.verify(token);
    expect(second).toBe(first);
    expect(Object.isFrozen(second)).toBe(true);
    expect(v.lookups()).toEqual({ hit: 1, miss: 1 });
    expect(v.cache.size).toBe(1);
  });

  it('keeps no refused session, and refuses it again every time', async () => {
    const v = verifier();
    const { token: foreign } = await mint({ audience: 'someone-else' });
    await expect(v.verify(foreign)).rejects.toMatchObject({ code: 'GATEHOUSE_INVALID_TOKEN' });
    await expect(v.verify(foreign)).rejects.toMatchObject({ code: 'GATEHOUSE_INVALID_TOKEN' });
    const { token: expired } = await mint({ ttlSeconds: 60, now: () => Date.now() - 600_000 });
    await expect(v.verify(expired)).rejects.toMatchObject({ code: 'GATEHOUSE_INVALID_TOKEN' });
    expect(v.cache.size).toBe(0);
    expect(v.lookups().hit).toBe(0);
  });

  it('does not keep a session still inside the clock tolerance past its exp', async () => {
    const v = verifier();
    // Expired 10 s ago: jose accepts it within its 30 s tolerance, but the cache keeps nothing past exp.
    const { token } = await mint({ ttlSeconds: 60, now: () => Date.now() - 70_000 });
    await expect(v.verify(token)).resolves.toMatchObject({ subject: 'ada' });
    expect(v.cache.size).toBe(0);
  });
});
