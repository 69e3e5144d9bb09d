// Signature checks shared by the providers. HMAC-SHA256 hex signatures go through
// @octokit/webhooks-methods (constant-time compare); any configured secret may match, so a secret
// can be rotated by adding the new one before the provider switches. Plain tokens (GitLab) are
// compared in constant time over their SHA-256 digests, so their lengths leak nothing either.
import { createHash, timingSafeEqual } from 'node:crypto';
import { verify } from '@octokit/webhooks-methods';
import type { Secret } from '../core/secret.js';

/** `signature` is `sha256=<hex>`; the body is checked as the exact bytes received. */
export async function verifySha256Signature(
  raw: Buffer,
  signature: string | undefined,
  secrets: Secret[],
): Promise<boolean> {
  if (signature === undefined || !/^sha256=[0-9a-fA-F]{64}$/.test(signature) || raw.length === 0) return false;
  const normalized = `sha256=${signature.slice(7).toLowerCase()}`;
  const payload = raw.toString('utf8');
  // Check every secret, so the time taken does not say which one matched.
  const results = await Promise.all(secrets.map((secret) => verify(secret.reveal(), payload, normalized)));
  return results.includes(true);
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
