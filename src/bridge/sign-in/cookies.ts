// Gatehouse's browser cookies. All are `__Host-` (Secure, Path=/, no Domain: only this host can
// set or read them), HttpOnly (no script reads them) and SameSite=Lax (not sent on cross-site
// POSTs). The edge strips every one of them before Argo, Temporal or any other upstream.
//   __Host-gh_session       the session token (ES256 JWT), verified by the edge on every request
//   __Host-gh_refresh       sealed: the IdP's refresh token and the claims to refresh with
//   __Host-gh_logout        sealed: the ID token, the hint the IdP's end-session endpoint asks for
//   __Host-gh_tx_<hash>     sealed: one sign-in's state, nonce, PKCE verifier and return path
import { createHash } from 'node:crypto';
import type { FastifyInstance } from 'fastify';

export const cookieNames = {
  session: '__Host-gh_session',
  refresh: '__Host-gh_refresh',
  logout: '__Host-gh_logout',
} as const;

/** A sign-in's cookie is named by its state, so two sign-ins in two tabs do not overwrite each other. */
export function signInCookieName(state: string): string {
  return `__Host-gh_tx_${createHash('sha256').update(state).digest('hex').slice(0, 16)}`;
}

export function setCookieHeader(app: FastifyInstance, name: string, value: string, maxAgeSeconds: number): string {
  return app.serializeCookie(name, value, {
    path: '/',
    secure: true,
    httpOnly: true,
    sameSite: 'lax',
    maxAge: Math.max(0, Math.floor(maxAgeSeconds)),
  });
}

export function clearCookieHeader(app: FastifyInstance, name: string): string {
  return setCookieHeader(app, name, '', 0);
}
