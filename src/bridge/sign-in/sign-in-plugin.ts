// Browser sign-in, when signIn is configured (docs/sign-in.md): the session keys and their JWKS,
// the cookie sealer, the relying party, the Cedar grants, and the /auth routes. It decorates the
// app with `sessionAuth`, which the auth plugin uses to accept a session cookie where no bearer
// token is sent. Without signIn nothing here is registered and /auth answers 404.
import cookie from '@fastify/cookie';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { GatehouseConfig } from '../../config/load-config.js';
import { durationMs } from '../../config/duration.js';
import type { Identity } from '../../core/identity.js';
import { VerifiedTokenCache } from '../auth/token-cache.js';
import { cookieNames } from './cookies.js';
import { createGrantDecider } from './grants.js';
import { createRelyingParty } from './relying-party.js';
import { createCookieSealer } from './sealed-cookie.js';
import { createSessionIssuer } from './session-issuer.js';
import { loadSessionKeys } from './session-keys.js';
import { createSessionVerifier, type SessionVerifier } from './session-token.js';
import { sessionRoutes } from './session-routes.js';
import { signInRoutes } from './sign-in-routes.js';

export interface SessionAuth {
  cookieName: string;
  verify: SessionVerifier;
  /** The origin unsafe cookie-authenticated requests must come from. */
  origin: string;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Present when browser sign-in is configured. */
    sessionAuth: SessionAuth | undefined;
  }
}

export const sessionJwksPath = '/.well-known/gatehouse/jwks.json';

async function signInPlugin(app: FastifyInstance, opts: { config: GatehouseConfig }) {
  const { config } = opts;
  const signIn = config.signIn;
  const secrets = config.signInSecrets;
  if (signIn === undefined || secrets === undefined) {
    app.decorate('sessionAuth', undefined);
    return;
  }
  await app.register(cookie);
  const keys = await loadSessionKeys(secrets.sessionKeys.reveal());
  const sealer = createCookieSealer(secrets.cookieKeys.map((key) => key.reveal()));
  const rp = createRelyingParty({
    issuer: config.auth.issuer,
    clientId: signIn.clientId,
    ...(secrets.clientSecret === undefined ? {} : { clientSecret: secrets.clientSecret }),
    timeoutSeconds: 5,
  });
  const sessions = createSessionIssuer(app, config, { keys, sealer, grants: createGrantDecider(config) });
  app.decorate('sessionAuth', {
    cookieName: cookieNames.session,
    origin: signIn.publicUrl,
    verify: createSessionVerifier(keys, {
      issuer: config.auth.issuer,
      audience: signIn.sessionAudience,
      clockToleranceSeconds: durationMs(config.auth.clockTolerance) / 1000,
      claims: config.auth.claims,
      // Verified on every request otherwise: 2.6 times a cached bearer token's CPU (bench, people).
      ...(config.auth.tokenCacheSize > 0
        ? { cache: new VerifiedTokenCache<Identity>({ maxEntries: config.auth.tokenCacheSize }) }
        : {}),
    }),
  });

  // The session keys, public parts only: the edge's key sync reads them, and so does a Kubernetes
  // API server that trusts Gatehouse's sessions (signIn.argo.identity: session).
  app.get(sessionJwksPath, { config: { auth: false } }, async (_request, reply) =>
    reply.header('cache-control', 'max-age=60').send(keys.jwks),
  );
  // A discovery document for that API server (its discoveryURL): the IdP's issuer, whose session
  // tokens Gatehouse signs, with Gatehouse's session keys.
  app.get('/.well-known/gatehouse/openid-configuration', { config: { auth: false } }, async () => ({
    issuer: config.auth.issuer,
    jwks_uri: `${signIn.publicUrl}${sessionJwksPath}`,
    id_token_signing_alg_values_supported: ['ES256'],
    response_types_supported: ['id_token'],
    subject_types_supported: ['public'],
  }));
  await app.register(signInRoutes, { config, rp, sealer, sessions });
  await app.register(sessionRoutes, { config, rp, sealer, sessions });
}

export default fp(signInPlugin, { name: 'gatehouse-sign-in' });
