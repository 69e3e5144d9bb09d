// A session's later life. POST /auth/refresh: the edge's Lua action (or the browser) trades the
// sealed refresh cookie for a new session token at the IdP (refreshTokenGrant), so a person whose
// session token ran out never sees a sign-in page until signIn.maxSessionAge. /auth/logout clears
// every Gatehouse cookie, revokes the refresh token at the IdP and ends the IdP's session too
// (end_session_endpoint), coming back to /auth/signed-out.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import * as client from 'openid-client';
import type { GatehouseConfig } from '../../config/load-config.js';
import { GatehouseError } from '../errors.js';
import { clearCookieHeader, cookieNames } from './cookies.js';
import { fromIdpError } from './idp-errors.js';
import type { RelyingParty } from './relying-party.js';
import type { CookieSealer } from './sealed-cookie.js';
import type { RefreshState, SessionIssuer } from './session-issuer.js';

export interface SessionRouteDeps {
  config: GatehouseConfig;
  rp: RelyingParty;
  sealer: CookieSealer;
  sessions: SessionIssuer;
}

export async function sessionRoutes(app: FastifyInstance, deps: SessionRouteDeps): Promise<void> {
  const signIn = deps.config.signIn!;
  const clearAll = () => Object.values(cookieNames).map((name) => clearCookieHeader(app, name));

  app.post('/auth/refresh', { config: { auth: false } }, async (request, reply) => {
    reply.header('cache-control', 'no-store');
    const sealed = request.cookies[cookieNames.refresh];
    const state = sealed === undefined ? undefined : await deps.sealer.open<RefreshState>('refresh', sealed);
    if (state === undefined) {
      reply.header('set-cookie', clearAll());
      throw new GatehouseError('GATEHOUSE_SESSION_INVALID', 'There is no session to refresh; sign in again');
    }
    let tokens: Awaited<ReturnType<typeof client.refreshTokenGrant>>;
    try {
      tokens = await client.refreshTokenGrant(await deps.rp.configuration(), state.rt);
    } catch (error) {
      const refused = fromIdpError(error, 'refresh');
      // A refresh token the IdP no longer honours (revoked, expired) ends the session here too.
      if (refused.code === 'GATEHOUSE_SESSION_INVALID') reply.header('set-cookie', clearAll());
      throw refused;
    }
    // A new ID token (most IdPs send one) brings fresh claims; it must be about the same person.
    const fresh = tokens.id_token === undefined ? undefined : deps.sessions.claimsFrom({ ...tokens.claims() });
    if (fresh !== undefined && (fresh.sub !== state.claims.sub || fresh.iss !== state.claims.iss)) {
      reply.header('set-cookie', clearAll());
      throw new GatehouseError('GATEHOUSE_SESSION_INVALID', 'The identity provider answered for another person');
    }
    const session = await deps.sessions.issue(
      fresh ?? state.claims,
      {
        // IdPs that rotate refresh tokens send a new one; the others keep the old one valid.
        refreshToken: tokens.refresh_token ?? state.rt,
        ...(tokens.id_token === undefined ? {} : { idToken: tokens.id_token }),
      },
      { sid: state.sid, until: state.until },
    );
    return reply.header('set-cookie', session.setCookies).code(204).send();
  });

  const logout = async (request: FastifyRequest, reply: FastifyReply) => {
    reply.header('cache-control', 'no-store').header('set-cookie', clearAll());
    const refresh = request.cookies[cookieNames.refresh];
    const logoutCookie = request.cookies[cookieNames.logout];
    const state = refresh === undefined ? undefined : await deps.sealer.open<RefreshState>('refresh', refresh);
    const hint =
      logoutCookie === undefined ? undefined : await deps.sealer.open<{ idt: string }>('logout', logoutCookie);
    const signedOut = `${signIn.publicUrl}/auth/signed-out`;
    let rp: client.Configuration;
    try {
      rp = await deps.rp.configuration();
    } catch {
      // The cookies are gone either way; the IdP's own session outlives this only while it is down.
      return reply.redirect('/auth/signed-out', 302);
    }
    if (state !== undefined && rp.serverMetadata().revocation_endpoint !== undefined) {
      await client
        .tokenRevocation(rp, state.rt, { token_type_hint: 'refresh_token' })
        .catch((error: unknown) => request.log.warn({ err: error }, 'the refresh token could not be revoked'));
    }
    if (rp.serverMetadata().end_session_endpoint === undefined) return reply.redirect('/auth/signed-out', 302);
    const end = client.buildEndSessionUrl(rp, {
      post_logout_redirect_uri: signedOut,
      ...(hint === undefined ? {} : { id_token_hint: hint.idt }),
    });
    if (state !== undefined)
      request.log.info({ principal: `jwt:${state.claims.iss}#${state.claims.sub}` }, 'signed out');
    return reply.redirect(end.href, 302);
  };
  app.get('/auth/logout', { config: { auth: false } }, logout);
  app.post('/auth/logout', { config: { auth: false } }, logout);
}
