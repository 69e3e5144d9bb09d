// What the browser holds but must not read: the refresh token, the ID token kept for logout, and
// a sign-in's state, nonce and PKCE verifier. Each is a compact JWE (`dir`, A256GCM) under one of
// signIn.cookieKeys: the first seals, all open (rotation), chosen by the `kid` in the header.
// AES-GCM authenticates as it encrypts, so a changed cookie does not open. Each sealed value names
// its purpose and expiry, so a sign-in cookie cannot be replayed as a refresh cookie.
import { createHash } from 'node:crypto';
import { base64url, CompactEncrypt, compactDecrypt, decodeProtectedHeader } from 'jose';

export type SealPurpose = 'refresh' | 'logout' | 'sign-in';

export interface CookieSealer {
  seal(purpose: SealPurpose, value: Record<string, unknown>, expiresAt: number): Promise<string>;
  /** The sealed value, or undefined when it does not open, is for another purpose or has expired. */
  open<T extends Record<string, unknown>>(purpose: SealPurpose, sealed: string): Promise<T | undefined>;
}

/** Thrown when a cookie key is not 32 bytes of base64url. */
export class CookieKeyError extends Error {
  override readonly name = 'CookieKeyError';
}

export function createCookieSealer(encodedKeys: string[], now: () => number = Date.now): CookieSealer {
  const keys = encodedKeys.map((encoded, index) => {
    const key = decodeKey(encoded, index);
    // The kid names the key without revealing it: a digest of it, shortened.
    return { kid: createHash('sha256').update(key).digest('base64url').slice(0, 12), key };
  });
  const [current] = keys;
  if (current === undefined) throw new CookieKeyError('signIn.cookieKeys is empty');
  const seconds = () => Math.floor(now() / 1000);
  return {
    async seal(purpose, value, expiresAt) {
      const payload = new TextEncoder().encode(JSON.stringify({ ...value, p: purpose, exp: expiresAt }));
      return new CompactEncrypt(payload)
        .setProtectedHeader({ alg: 'dir', enc: 'A256GCM', kid: current.kid })
        .encrypt(current.key);
    },
    async open<T extends Record<string, unknown>>(purpose: SealPurpose, sealed: string) {
      try {
        const { kid, alg, enc } = decodeProtectedHeader(sealed);
        const key = keys.find((k) => k.kid === kid);
        if (key === undefined || alg !== 'dir' || enc !== 'A256GCM') return undefined;
        const { plaintext } = await compactDecrypt(sealed, key.key, {
          keyManagementAlgorithms: ['dir'],
          contentEncryptionAlgorithms: ['A256GCM'],
        });
        const value = JSON.parse(new TextDecoder().decode(plaintext)) as T & { p?: unknown; exp?: unknown };
        if (value.p !== purpose || typeof value.exp !== 'number' || value.exp <= seconds()) return undefined;
        return value;
      } catch {
        return undefined;
      }
    },
  };
}

function decodeKey(encoded: string, index: number): Uint8Array {
  let key: Uint8Array;
  try {
    key = base64url.decode(encoded.trim());
  } catch {
    throw new CookieKeyError(`signIn.cookieKeys/${index} is not base64url`);
  }
  if (key.length !== 32) throw new CookieKeyError(`signIn.cookieKeys/${index} must be 32 bytes (it is ${key.length})`);
  return key;
}
