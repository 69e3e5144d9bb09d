// The verified-token cache, with real keys, real jose verification and the real key store (its
// JWKS fetch stubbed): a repeat token skips the signature check, an entry never outlives `exp`, a
// key set that changes drops every entry, the bound holds, and tokens never share an entry.
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JSONWebKeySet, type JWK } from 'jose';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Identity } from '../../../../src/core/identity.js';
import { GatehouseError } from '../../../../src/bridge/errors.js';
import { createKeyStore, type KeyStore } from '../../../../src/bridge/auth/key-store.js';
import { tokenDigest, VerifiedTokenCache } from '../../../../src/bridge/auth/token-cache.js';
import { createTokenVerifier, type TokenVerifier } from '../../../../src/bridge/auth/verify-token.js';

const issuer = 'https://idp.test';
const audience = 'gatehouse';
const toleranceSeconds = 30;

interface TestKey {
  kid: string;
  privateKey: CryptoKey;
  jwk: JWK;
}

async function makeKey(kid: string): Promise<TestKey> {
  const { privateKey, publicKey } = await generateKeyPair('RS256');
  return { kid, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' } };
}

async function mint(key: TestKey, claims: Record<string, unknown>, expiresIn = 3600): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: key.kid })
    .setIssuer(issuer)
    .setAudience(audience)
    .setIssuedAt(now)
    .setExpirationTime(now + expiresIn)
    .sign(key.privateKey);
}

/** The published keys, which a test may change; the key store fetches them through a stub. */
let published: JSONWebKeySet;
let store: KeyStore;
/** How many times a signature check asked for a key: one per full verification. */
let keyLookups: number;
let cache: VerifiedTokenCache<Identity>;
let verify: TokenVerifier;
let keyA: TestKey;

beforeEach(async () => {
  keyA = await makeKey('key-a');
  published = { keys: [keyA.jwk] };
  vi.stubGlobal('fetch', async () => new Response(JSON.stringify(published), { status: 200 }));
  store = createKeyStore({
    issuer,
    jwksUrl: 'https://idp.test/jwks',
    refreshMs: 3_600_000,
    cooldownMs: 3_600_000,
    fetchTimeoutMs: 1_000,
  });
  keyLookups = 0;
  const counted: KeyStore = {
    getKey: (header, token) => {
      keyLookups += 1;
      return store.getKey(header, token);
    },
    get generation() {
      return store.generation;
    },
    state: () => store.state(),
    refresh: () => store.refresh(),
    close: () => store.close(),
  };
  cache = new VerifiedTokenCache<Identity>({ maxEntries: 100 });
  verify = createTokenVerifier(counted, {
    issuer,
    audience,
    algorithms: ['RS256'],
    types: ['JWT'],
    clockToleranceSeconds: toleranceSeconds,
    claims: { groups: 'groups', roles: 'roles' },
    cache,
  });
});

afterEach(() => {
  store.close();
  vi.useRealTimers();
  vi.unstubAllGlobals();
});

async function refused(token: string): Promise<GatehouseError> {
  const error = await verify(token).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(GatehouseError);
  expect((error as GatehouseError).code).toBe('GATEHOUSE_INVALID_TOKEN');
  return error as GatehouseError;
}

describe('the verified-token cache', () => {
  it('answers a repeated token without checking its signature again', async () => {
    const token = await mint(keyA, { sub: 'alice', groups: ['maintainers'] });
    const first = await verify(token);
    expect(keyLookups).toBe(1);
    const again = await verify(token);
    const third = await verify(token);
    expect(keyLookups).toBe(1);
    expect(again).toEqual(first);
    expect(third.groups).toEqual(['maintainers']);
    expect(cache.hits).toBe(2);
    expect(cache.misses).toBe(1);
    // A shared, cached identity cannot be changed by whoever receives it.
    expect(Object.isFrozen(again) && Object.isFrozen(again.groups)).toBe(true);
  });

  it('never caches a failure: a tampered or expired token is checked every time', async () => {
    const token = await mint(keyA, { sub: 'mallory' });
    const [header, , signature] = token.split('.');
    const claims = Buffer.from(JSON.stringify({ sub: 'admin', iss: issuer, aud: audience, exp: 4e9 }));
    const forged = `${header}.${claims.toString('base64url')}.${signature}`;
    await refused(forged);
    await refused(forged);
    expect(keyLookups).toBe(2);
    const expired = await mint(keyA, { sub: 'late' }, -120);
    await refused(expired);
    await refused(expired);
    expect(keyLookups).toBe(4);
    expect(cache.size).toBe(0);
  });

  it('serves an entry only until exp; past it the token is checked again, and refused when jose refuses it', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const token = await mint(keyA, { sub: 'bob' }, 60);
    const exp = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()).exp as number;
    await verify(token);
    vi.setSystemTime(exp * 1000 - 1);
    await verify(token);
    expect(keyLookups).toBe(1); // still the cached entry, one millisecond before exp
    // At exp the entry is gone. jose still accepts the token within its clock tolerance, but it is
    // not cached again: from here on every request pays the full check.
    vi.setSystemTime(exp * 1000);
    await verify(token);
    await verify(token);
    expect(keyLookups).toBe(3);
    expect(cache.size).toBe(0);
    // Past exp + tolerance jose refuses it, and so does the bridge, although it was cached once.
    vi.setSystemTime((exp + toleranceSeconds) * 1000);
    const error = await refused(token);
    expect(error.message).toMatch(/expired/);
  });

  it('does not cache a token before its nbf, even one jose accepts within the clock tolerance', async () => {
    const now = Math.floor(Date.now() / 1000);
    const early = await new SignJWT({ sub: 'carol' })
      .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: keyA.kid })
      .setIssuer(issuer)
      .setAudience(audience)
      .setNotBefore(now + 10)
      .setExpirationTime(now + 3600)
      .sign(keyA.privateKey);
    await verify(early);
    await verify(early);
    expect(keyLookups).toBe(2);
    expect(cache.size).toBe(0);
  });

  it('drops every entry when the key set changes, so a withdrawn key admits no cached token', async () => {
    const token = await mint(keyA, { sub: 'dave' });
    await verify(token);
    await verify(token);
    expect(keyLookups).toBe(1);
    // A refresh that fetches the same keys keeps the cache.
    await store.refresh();
    await verify(token);
    expect(keyLookups).toBe(1);
    // The issuer rotates: key A is withdrawn, key B published. The next refresh drops the cache,
    // and the token signed with A is refused, although it was cached a moment ago.
    const keyB = await makeKey('key-b');
    published = { keys: [keyB.jwk] };
    await store.refresh();
    const error = await refused(token);
    expect(error.message).toMatch(/unknown key/);
    expect(keyLookups).toBe(2);
    // Tokens signed with the new key verify and are cached again.
    const fresh = await mint(keyB, { sub: 'dave' });
    await verify(fresh);
    await verify(fresh);
    expect(keyLookups).toBe(3);
  });

  it('keeps tokens of the same subject apart: each token answers its own claims', async () => {
    const reader = await mint(keyA, { sub: 'erin', groups: ['readers'] });
    const admin = await mint(keyA, { sub: 'erin', groups: ['gatehouse-admins'] });
    expect(tokenDigest(reader)).not.toBe(tokenDigest(admin));
    expect((await verify(reader)).groups).toEqual(['readers']);
    expect((await verify(admin)).groups).toEqual(['gatehouse-admins']);
    expect((await verify(reader)).groups).toEqual(['readers']);
    expect((await verify(admin)).groups).toEqual(['gatehouse-admins']);
    expect(keyLookups).toBe(2);
    expect(cache.size).toBe(2);
  });

  it('keys entries by the SHA-256 of the token, never the token', async () => {
    const token = await mint(keyA, { sub: 'frank' });
    expect(tokenDigest(token)).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(tokenDigest(token)).not.toContain(token.slice(0, 20));
  });
});

describe('VerifiedTokenCache', () => {
  const far = () => Date.now() + 3_600_000;

  it('holds at most maxEntries: the N+1th evicts the least recently used', () => {
    const bounded = new VerifiedTokenCache<string>({ maxEntries: 3 });
    for (const key of ['a', 'b', 'c']) bounded.set(key, key, { expiresAtMs: far() }, 1);
    expect(bounded.get('a', 1)).toBe('a'); // a is now the most recently used; b the least
    bounded.set('d', 'd', { expiresAtMs: far() }, 1);
    expect(bounded.size).toBe(3);
    expect(bounded.get('b', 1)).toBeUndefined();
    expect(['a', 'c', 'd'].map((key) => bounded.get(key, 1))).toEqual(['a', 'c', 'd']);
    for (let i = 0; i < 1000; i += 1) bounded.set(`k${i}`, 'v', { expiresAtMs: far() }, 1);
    expect(bounded.size).toBe(3);
  });

  it('keeps nothing with maxEntries 0, nothing already expired, and nothing from an older key set', () => {
    const off = new VerifiedTokenCache<string>({ maxEntries: 0 });
    off.set('a', 'a', { expiresAtMs: far() }, 1);
    expect(off.get('a', 1)).toBeUndefined();

    let now = 1_000;
    const timed = new VerifiedTokenCache<string>({ maxEntries: 10, now: () => now });
    timed.set('late', 'v', { expiresAtMs: 1_000 }, 1);
    expect(timed.size).toBe(0);
    timed.set('a', 'a', { expiresAtMs: 2_000 }, 1);
    now = 1_999;
    expect(timed.get('a', 1)).toBe('a');
    now = 2_000;
    expect(timed.get('a', 1)).toBeUndefined();
    expect(timed.size).toBe(0);

    now = 0;
    timed.set('x', 'x', { expiresAtMs: 5_000 }, 1);
    expect(timed.get('x', 2)).toBeUndefined(); // a newer key set: everything went
    timed.set('old', 'v', { expiresAtMs: 5_000 }, 1); // verified with the previous key set: not kept
    expect(timed.get('old', 2)).toBeUndefined();
    expect(timed.size).toBe(0);

    // An entry is served only inside its window: a clock set back before nbf/iat does not widen it.
    now = 10_000;
    timed.set('w', 'w', { validFromMs: 9_000, expiresAtMs: 20_000 }, 2);
    now = 8_999;
    expect(timed.get('w', 2)).toBeUndefined();
  });
});
