// The development issuer's browser sign-in, for the dev stack and the sign-in tests: an
// authorization endpoint with a sign-in page (anyone may sign in as any subject, with the groups
// they type: development only), the authorization code grant with PKCE (S256 only, checked),
// refresh tokens that rotate on every use (an old one is refused), revocation, and an end-session
// endpoint that ends the issuer's own session, so the next sign-in shows the page again.
import { createHash, randomBytes } from 'node:crypto';
import type { JWTPayload } from 'jose';

export interface DevUser {
  sub: string;
  name?: string;
  email?: string;
  groups: string[];
}

export interface DevAnswer {
  status: number;
  headers?: Record<string, string | string[]>;
  body: unknown;
}

interface PendingCode {
  clientId: string;
  redirectUri: string;
  challenge: string;
  nonce?: string;
  scope: string;
  user: DevUser;
  expiresAt: number;
}

export interface DevSignInStats {
  /** Authorization codes exchanged, refresh grants answered, tokens revoked, sessions ended. */
  codes: number;
  refreshes: number;
  revocations: number;
  endSessions: number;
}

export interface DevSignIn {
  readonly stats: DevSignInStats;
  /** Makes every refresh token issued so far unusable (the IdP revoked them). */
  revokeAllRefreshTokens(): void;
  authorize(url: URL, cookies: Record<string, string>, form?: URLSearchParams): DevAnswer;
  token(form: URLSearchParams): Promise<DevAnswer>;
  revoke(form: URLSearchParams): DevAnswer;
  endSession(url: URL, cookies: Record<string, string>): DevAnswer;
}

const sessionCookie = 'dev_issuer_session';
const random = () => randomBytes(24).toString('base64url');

export function createDevSignIn(options: {
  issuerUrl: () => string;
  audience: string;
  /** Signs a token for these claims (the issuer's newest key); `audience` and lifetime as asked. */
  mint(claims: JWTPayload, audience: string, expiresIn: number): Promise<string>;
  idTokenSeconds: number;
  accessTokenSeconds: number;
}): DevSignIn {
  const codes = new Map<string, PendingCode>();
  const sessions = new Map<string, DevUser>();
  const refreshTokens = new Map<string, { clientId: string; user: DevUser; scope: string }>();
  const stats: DevSignInStats = { codes: 0, refreshes: 0, revocations: 0, endSessions: 0 };

  const tokensFor = async (user: DevUser, clientId: string, scope: string, nonce?: string) => {
    const profile = { ...(user.name ? { name: user.name } : {}), ...(user.email ? { email: user.email } : {}) };
    const refresh = scope.split(' ').includes('offline_access') ? random() : undefined;
    if (refresh !== undefined) refreshTokens.set(refresh, { clientId, user, scope });
    return {
      access_token: await options.mint(
        { sub: user.sub, groups: user.groups, ...profile },
        options.audience,
        options.accessTokenSeconds,
      ),
      id_token: await options.mint(
        { sub: user.sub, groups: user.groups, ...profile, ...(nonce === undefined ? {} : { nonce }) },
        clientId,
        options.idTokenSeconds,
      ),
      token_type: 'Bearer',
      expires_in: options.accessTokenSeconds,
      scope,
      ...(refresh === undefined ? {} : { refresh_token: refresh }),
    };
  };
  const oauthError = (error: string, description: string, status = 400): DevAnswer => ({
    status,
    body: { error, error_description: description },
  });
  const redirectWith = (redirectUri: string, params: Record<string, string>): DevAnswer => {
    const target = new URL(redirectUri);
    for (const [key, value] of Object.entries(params)) target.searchParams.set(key, value);
    return { status: 302, headers: { location: target.href }, body: '' };
  };

  return {
    stats,
    revokeAllRefreshTokens() {
      refreshTokens.clear();
    },
    authorize(url, cookies, form) {
      const params = form ?? url.searchParams;
      const clientId = params.get('client_id');
      const redirectUri = params.get('redirect_uri');
      if (clientId === null || redirectUri === null || !/^https?:\/\//.test(redirectUri)) {
        return oauthError('invalid_request', 'client_id and redirect_uri are required');
      }
      const state = params.get('state') ?? '';
      if (params.get('response_type') !== 'code')
        return redirectWith(redirectUri, { error: 'unsupported_response_type', state });
      const challenge = params.get('code_challenge');
      if (challenge === null || params.get('code_challenge_method') !== 'S256') {
        return redirectWith(redirectUri, {
          error: 'invalid_request',
          error_description: 'PKCE S256 is required',
          state,
        });
      }
      let user =
        form === undefined && params.get('prompt') !== 'login' ? sessions.get(cookies[sessionCookie] ?? '') : undefined;
      const headers: Record<string, string | string[]> = {};
      if (form !== undefined) {
        const sub = (form.get('username') ?? '').trim();
        if (!/^[A-Za-z0-9._@-]{1,64}$/.test(sub))
          return {
            status: 400,
            headers: { 'content-type': 'text/html' },
            body: page(params, 'Enter a user name (letters, digits, . _ @ -).'),
          };
        const groups = (form.get('groups') ?? '').split(/[\s,]+/).filter(Boolean);
        user = { sub, name: sub, email: `${sub}@example.test`, groups };
        const id = random();
        sessions.set(id, user);
        headers['set-cookie'] = `${sessionCookie}=${id}; Path=/; HttpOnly; SameSite=Lax`;
      }
      if (user === undefined)
        return { status: 200, headers: { 'content-type': 'text/html; charset=utf-8' }, body: page(params) };
      const code = random();
      const nonce = params.get('nonce');
      codes.set(code, {
        clientId,
        redirectUri,
        challenge,
        ...(nonce === null ? {} : { nonce }),
        scope: params.get('scope') ?? 'openid',
        user,
        expiresAt: Date.now() + 60_000,
      });
      const answer = redirectWith(redirectUri, { code, state, iss: options.issuerUrl() });
      return { ...answer, headers: { ...answer.headers, ...headers } };
    },
    async token(form) {
      const clientId = form.get('client_id');
      if (form.get('grant_type') === 'authorization_code') {
        const code = form.get('code') ?? '';
        const pending = codes.get(code);
        codes.delete(code); // single use, whatever happens next
        if (pending === undefined || pending.expiresAt < Date.now())
          return oauthError('invalid_grant', 'unknown or used code');
        if (pending.clientId !== clientId || pending.redirectUri !== form.get('redirect_uri')) {
          return oauthError('invalid_grant', 'the code was issued to another client or redirect_uri');
        }
        const verifier = form.get('code_verifier') ?? '';
        if (createHash('sha256').update(verifier).digest('base64url') !== pending.challenge) {
          return oauthError('invalid_grant', 'the PKCE verifier does not match');
        }
        stats.codes += 1;
        return { status: 200, body: await tokensFor(pending.user, pending.clientId, pending.scope, pending.nonce) };
      }
      if (form.get('grant_type') === 'refresh_token') {
        const presented = form.get('refresh_token') ?? '';
        const held = refreshTokens.get(presented);
        refreshTokens.delete(presented); // rotated: the old one is spent
        if (held === undefined || held.clientId !== clientId)
          return oauthError('invalid_grant', 'unknown, used or revoked refresh token');
        stats.refreshes += 1;
        return { status: 200, body: await tokensFor(held.user, held.clientId, held.scope) };
      }
      return oauthError('unsupported_grant_type', 'authorization_code or refresh_token');
    },
    revoke(form) {
      if (refreshTokens.delete(form.get('token') ?? '')) stats.revocations += 1;
      return { status: 200, body: '' };
    },
    endSession(url, cookies): DevAnswer {
      sessions.delete(cookies[sessionCookie] ?? '');
      stats.endSessions += 1;
      const back = url.searchParams.get('post_logout_redirect_uri');
      const clear = `${sessionCookie}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0`;
      if (back !== null && /^https?:\/\//.test(back))
        return { status: 302, headers: { location: back, 'set-cookie': clear }, body: '' };
      return {
        status: 200,
        headers: { 'content-type': 'text/html; charset=utf-8', 'set-cookie': clear },
        body: '<!doctype html><title>Signed out</title><p>Signed out of the development issuer.</p>',
      };
    },
  };
}

const escape = (text: string) =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** The sign-in page: the authorization request rides along in hidden fields. */
function page(params: URLSearchParams, problem?: string): string {
  const hidden = [...params.entries()]
    .filter(([key]) => key !== 'username' && key !== 'groups')
    .map(([key, value]) => `<input type="hidden" name="${escape(key)}" value="${escape(value)}">`)
    .join('');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Sign in · development issuer</title></head>
<body><main><h1>Sign in to the development issuer</h1>
<p>Development only: any user name is accepted.</p>${problem === undefined ? '' : `<p role="alert">${escape(problem)}</p>`}
<form method="post" action="/authorize">${hidden}
<p><label for="username">User name</label> <input id="username" name="username" autocomplete="username" required></p>
<p><label for="groups">Groups (comma-separated)</label> <input id="groups" name="groups"></p>
<p><button type="submit">Sign in</button></p>
</form></main></body></html>`;
}
