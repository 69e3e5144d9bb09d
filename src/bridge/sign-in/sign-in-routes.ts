// The sign-in (docs/sign-in.md): /auth/login sends the browser to the IdP with an authorization
// code request (PKCE S256, state and nonce), remembering them in a sealed cookie named by the
// state; /auth/callback finishes it (openid-client checks state, PKCE, nonce and the ID token),
// makes the session and goes back to the path the person came from. Any replica can finish a
// sign-in another began: everything it needs is in the sealed cookie.
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import * as client from 'openid-client';
import { durationMs } from '../../config/duration.js';
import type { GatehouseConfig } from '../../config/load-config.js';
import { GatehouseError } from '../errors.js';
import { clearCookieHeader, setCookieHeader, signInCookieName } from './cookies.js';
import { fromIdpError } from './idp-errors.js';
import type { RelyingParty } from './relying-party.js';
import { safeReturnPath } from './return-path.js';
import type { CookieSealer } from './sealed-cookie.js';
import type { SessionIssuer } from './session-issuer.js';

const signInSeconds = 600;

interface SignInState extends Record<string, unknown> {
  state: string;
  nonce: string;
  verifier: string;
  rd: string;
}

export interface SignInDeps {
  config: GatehouseConfig;
  rp: RelyingParty;
  sealer: CookieSealer;
  sessions: SessionIssuer;
  now?: () => number;
}

export async function signInRoutes(app: FastifyInstance, deps: SignInDeps): Promise<void> {
  const signIn = deps.config.signIn!;
  const now = deps.now ?? Date.now;
  const redirectUri = `${signIn.publicUrl}/auth/callback`;
  const noStore = (reply: FastifyReply) => reply.header('cache-control', 'no-store');

  app.get<{ Querystring: { rd?: string } }>('/auth/login', { config: { auth: false } }, async (request, reply) => {
    const rp = await deps.rp.configuration().catch((error: unknown) => {
      throw fromIdpError(error, 'sign-in');
    });
    const state = client.randomState();
    const nonce = client.randomNonce();
    const verifier = client.randomPKCECodeVerifier();
    const rd = safeReturnPath(request.query.rd);
    const expires = Math.floor(now() / 1000) + signInSeconds;
    const sealed = await deps.sealer.seal('sign-in', { state, nonce, verifier, rd }, expires);
    const location = client.buildAuthorizationUrl(rp, {
      redirect_uri: redirectUri,
      scope: signIn.scopes.join(' '),
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      nonce,
    });
    return noStore(reply)
      .header('set-cookie', setCookieHeader(app, signInCookieName(state), sealed, signInSeconds))
      .redirect(location.href, 302);
  });

  app.get<{ Querystring: { state?: string; code?: string; error?: string } }>(
    '/auth/callback',
    { config: { auth: false } },
    async (request, reply) => {
      const { state } = request.query;
      if (typeof state !== 'string' || state.length === 0 || state.length > 512) {
        throw new GatehouseError('GATEHOUSE_SIGN_IN_FAILED', 'The callback has no state');
      }
      const cookieName = signInCookieName(state);
      const sealed = request.cookies[cookieName];
      const pending = sealed === undefined ? undefined : await deps.sealer.open<SignInState>('sign-in', sealed);
      // The cookie is named by the state, and the state must also be inside it: a callback whose
      // state this browser never sent matches no cookie, or a cookie that says otherwise.
      if (pending === undefined || pending.state !== state) {
        throw new GatehouseError(
          'GATEHOUSE_SIGN_IN_FAILED',
          'This sign-in was not started in this browser, or took longer than 10 minutes; sign in again',
        );
      }
      reply.header('set-cookie', clearCookieHeader(app, cookieName));
      if (typeof request.query.error === 'string') {
        throw new GatehouseError('GATEHOUSE_SIGN_IN_FAILED', `The identity provider answered ${request.query.error}`);
      }
      let tokens: Awaited<ReturnType<typeof client.authorizationCodeGrant>>;
      try {
        const rp = await deps.rp.configuration();
        tokens = await client.authorizationCodeGrant(rp, new URL(`${signIn.publicUrl}${request.url}`), {
          pkceCodeVerifier: pending.verifier,
          expectedState: pending.state,
          expectedNonce: pending.nonce,
          idTokenExpected: true,
        });
      } catch (error) {
        throw fromIdpError(error, 'sign-in');
      }
      const claims = deps.sessions.claimsFrom({ ...tokens.claims() });
      const until = Math.floor(now() / 1000) + durationMs(signIn.maxSessionAge) / 1000;
      const session = await deps.sessions.issue(
        claims,
        {
          ...(tokens.refresh_token === undefined ? {} : { refreshToken: tokens.refresh_token }),
          ...(tokens.id_token === undefined ? {} : { idToken: tokens.id_token }),
        },
        { sid: randomUUID(), until },
      );
      request.log.info({ principal: `jwt:${claims.iss}#${claims.sub}` }, 'signed in');
      return noStore(reply)
        .header('set-cookie', [clearCookieHeader(app, cookieName), ...session.setCookies])
        .redirect(pending.rd, 302);
    },
  );

  app.get('/auth/signed-out', { config: { auth: false } }, async (_request: FastifyRequest, reply) =>
    noStore(reply)
      .type('text/html; charset=utf-8')
      .send(
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Signed out · Gatehouse</title></head>' +
          '<body><main><h1>You are signed out</h1><p><a href="/auth/login">Sign in again</a></p></main></body></html>',
      ),
  );
}
