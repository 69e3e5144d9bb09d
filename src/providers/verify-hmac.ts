// Signature checks shared by the providers. HMAC-SHA256 is computed over the raw body *bytes*
// (the signature covers bytes, not decoded text: no UTF-8 decoding, no string copy of a 25 MB
// body) and compared in constant time. Every configured secret is tried, so a secret can be
// rotated by adding the new one before the provider switches, and the time taken does not say
// which one matched. Plain tokens (GitLab) are compared over their SHA-256 digests, so their
// lengths leak nothing either.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { Secret } from '../core/secret.js';

export const sha256SignaturePattern = /^sha256=[0-9a-fA-F]{64}$/;

/** `signature` is `sha256=<hex>`; the body is checked as the exact bytes received. */
export function verifySha256Signature(raw: Buffer, signature: string | undefined, secrets: Secret[]): boolean {
  if (signature === undefined || !sha256SignaturePattern.test(signature) || raw.length === 0) return false;
  const given = Buffer.from(signature.slice(7), 'hex');
  let matched = false;
  for (const secret of secrets) {
    const expected = createHmac('sha256', secret.reveal()).update(raw).digest();
    matched = timingSafeEqual(given, expected) || matched;
  }
  return matched;
}

export function matchesToken(token: string | undefined, secrets: Secret[]): boolean {
  if (token === undefined || token === '') return false;
  const given = createHash('sha256').update(token).digest();
  let matched = false;
  for (const secret of secrets) {
    const expected = createHash('sha256').update(secret.reveal()).digest();
    matched = timingSafeEqual(given, expected) || matched;
  }
  return matched;
}
