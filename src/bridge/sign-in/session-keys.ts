// Gatehouse's own session-signing keys: a JWKS of ES256 private keys that every bridge replica
// reads from the same secret (signIn.sessionKeys). The first key signs; every key is published
// (public parts only) at /.well-known/gatehouse/jwks.json, which the edge's key sync loads into
// HAProxy's session kid map. ES256 keeps clear of HAProxy 2.6.12's RS256 failure path
// (docs/edge.md). Rotation: add the new key last, let the edge sync it, then move it first; drop
// the old key once the sessions it signed have expired (signIn.sessionTtl).
import { exportJWK, generateKeyPair, importJWK, type CryptoKey, type JSONWebKeySet, type JWK } from 'jose';

export interface SessionKeys {
  /** The key new session tokens are signed with. */
  readonly signing: { kid: string; key: CryptoKey };
  /** Every key's public part, as published. */
  readonly jwks: JSONWebKeySet;
}

/** Thrown when signIn.sessionKeys is not a usable JWKS of ES256 private keys. */
export class SessionKeysError extends Error {
  override readonly name = 'SessionKeysError';
}

const saneKid = /^[A-Za-z0-9._:-]{1,128}$/;

export async function loadSessionKeys(text: string): Promise<SessionKeys> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new SessionKeysError('signIn.sessionKeys is not JSON (expected a JWKS: {"keys": [...]})');
  }
  const keys = (parsed as { keys?: unknown }).keys;
  if (!Array.isArray(keys) || keys.length === 0) throw new SessionKeysError('signIn.sessionKeys has no keys');
  const published: JWK[] = [];
  let signing: SessionKeys['signing'] | undefined;
  const kids = new Set<string>();
  for (const jwk of keys as JWK[]) {
    const kid = jwk.kid;
    if (typeof kid !== 'string' || !saneKid.test(kid)) throw new SessionKeysError('a session key has no usable kid');
    if (kids.has(kid)) throw new SessionKeysError(`the session key id ${kid} is used twice`);
    kids.add(kid);
    if (jwk.kty !== 'EC' || jwk.crv !== 'P-256' || typeof jwk.d !== 'string' || (jwk.alg ?? 'ES256') !== 'ES256') {
      throw new SessionKeysError(`session key ${kid}: expected an ES256 (EC P-256) private key`);
    }
    const privateKey = (await importJWK({ ...jwk, alg: 'ES256' }, 'ES256')) as CryptoKey;
    const { kty, crv, x, y } = jwk;
    published.push({ kty, crv, x, y, kid, alg: 'ES256', use: 'sig' } as JWK);
    signing ??= { kid, key: privateKey };
  }
  return { signing: signing!, jwks: { keys: published } };
}

/** A fresh private session key as a JWK, for the dev stack and the tests. */
export async function generateSessionKey(kid: string): Promise<JWK> {
  const { privateKey } = await generateKeyPair('ES256', { extractable: true });
  return { ...(await exportJWK(privateKey)), kid, alg: 'ES256', use: 'sig' };
}
