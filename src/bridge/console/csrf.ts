// CSRF tokens for the console's forms, bound to the session: an HMAC of the person's principal and
// the session id (`sid`, the same across the session's refreshes), under a key derived from the
// sign-in's cookie keys. Nothing is stored: a form carries the token, the check recomputes it. A
// token from another session, another person or a rotated-out key does not check. This comes on
// top of the edge's and the bridge's same-origin checks (Sec-Fetch-Site / Origin) and SameSite.
import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';

export interface CsrfTokens {
  /** The token for forms of this session. */
  issue(principal: string, sid: string): string;
  /** Whether `token` was issued for this session under any of the keys. */
  check(token: unknown, principal: string, sid: string): boolean;
}

/** `cookieKeys` as configured (base64url, the first current); each yields a CSRF key of its own. */
export function createCsrfTokens(cookieKeys: readonly string[]): CsrfTokens {
  if (cookieKeys.length === 0) throw new RangeError('CSRF tokens need at least one key');
  const keys = cookieKeys.map((key) =>
    Buffer.from(hkdfSync('sha256', Buffer.from(key, 'base64url'), '', 'gatehouse console csrf', 32)),
  );
  const mac = (key: Buffer, principal: string, sid: string) =>
    createHmac('sha256', key)
      .update(JSON.stringify([principal, sid]))
      .digest();
  return {
    issue: (principal, sid) => mac(keys[0]!, principal, sid).toString('base64url'),
    check(token, principal, sid) {
      if (typeof token !== 'string' || !/^[A-Za-z0-9_-]{43}$/.test(token)) return false;
      const given = Buffer.from(token, 'base64url');
      return keys.some((key) => timingSafeEqual(given, mac(key, principal, sid)));
    },
  };
}
