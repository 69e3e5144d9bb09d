import { exportJWK, generateKeyPair, type JWK } from 'jose';
import { describe, expect, it } from 'vitest';
import { edgeKeysFrom, keyFileName, keySetDigest, mergeKeys, renderKeyFiles } from '../../../src/edge/render-keys.js';

async function jwk(alg: 'RS256' | 'ES256', kid: string, extra: Partial<JWK> = {}): Promise<JWK> {
  const { publicKey } = await generateKeyPair(alg, { extractable: true });
  return { ...(await exportJWK(publicKey)), kid, alg, use: 'sig', ...extra };
}

describe('edgeKeysFrom', () => {
  it('turns RS256 and ES256 signing keys into SPKI PEMs, and skips what HAProxy cannot use', async () => {
    const jwks = {
      keys: [
        await jwk('RS256', 'rsa-1'),
        await jwk('ES256', 'ec-1'),
        await jwk('RS256', 'enc', { use: 'enc' }),
        await jwk('RS256', 'bad kid with spaces'),
        { kty: 'oct', kid: 'hmac', k: 'c2VjcmV0' },
      ],
    };
    const { keys, skipped } = await edgeKeysFrom(jwks, 1000);
    expect(keys.map((k) => [k.kid, k.alg])).toEqual([
      ['rsa-1', 'RS256'],
      ['ec-1', 'ES256'],
    ]);
    expect(keys.every((k) => k.pem.startsWith('-----BEGIN PUBLIC KEY-----'))).toBe(true);
    expect(skipped).toHaveLength(3);
  });
});

describe('mergeKeys', () => {
  it('keeps a retired key until the retention has passed, then drops it', async () => {
    const [old] = (await edgeKeysFrom({ keys: [await jwk('RS256', 'old')] }, 1000)).keys;
    const [fresh] = (await edgeKeysFrom({ keys: [await jwk('RS256', 'new')] }, 5000)).keys;
    expect(mergeKeys([fresh!], [old!], 5000, 3600).map((k) => k.kid)).toEqual(['new']);
    expect(mergeKeys([fresh!], [old!], 4000, 3600).map((k) => k.kid)).toEqual(['new', 'old']);
  });
});

describe('renderKeyFiles', () => {
  it('writes one map per algorithm, and a preload rule naming every key file literally', async () => {
    const { keys } = await edgeKeysFrom({ keys: [await jwk('RS256', 'r1'), await jwk('ES256', 'e1')] }, 1);
    const files = renderKeyFiles(keys, '/keys');
    expect(files.get('kid-rs256.map')).toBe(`r1 /keys/${keyFileName({ kid: 'r1', alg: 'RS256' })}\n`);
    expect(files.get('kid-es256.map')).toBe(`e1 /keys/${keyFileName({ kid: 'e1', alg: 'ES256' })}\n`);
    const preload = files.get('keys.cfg')!;
    expect(preload).toContain(`jwt_verify("RS256","/keys/${keyFileName({ kid: 'r1', alg: 'RS256' })}")`);
    expect(preload).toContain(`jwt_verify("ES256","/keys/${keyFileName({ kid: 'e1', alg: 'ES256' })}")`);
    // File names come from a digest of the kid, never from the kid itself.
    expect(keyFileName({ kid: '../../etc/passwd', alg: 'RS256' })).toMatch(/^rs256-[0-9a-f]{24}\.pem$/);
  });

  it('fingerprints the key set, so a sync reloads only on change', async () => {
    const { keys } = await edgeKeysFrom({ keys: [await jwk('RS256', 'r1')] }, 1);
    expect(keySetDigest(keys)).toBe(keySetDigest(keys.map((k) => ({ ...k, lastSeen: 999 }))));
    expect(keySetDigest(keys)).not.toBe(keySetDigest([]));
  });
});
