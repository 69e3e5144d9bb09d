// Authentication is one onRequest hook. Every route requires a verified bearer token unless its
// route config says `auth: false`; a route with `access` also checks the caller may use it, before
// the body is even read, so a caller without access learns nothing from validation errors.
// Identity headers (X-Auth-*) set by the edge are never read here: the token is verified again.
// Where browser sign-in is configured, a request without an Authorization header may instead carry
// the session cookie (src/bridge/sign-in/): verified here too, and refused on an unsafe method
// unless it comes from Gatehouse's own origin (src/bridge/auth/same-origin.ts).
// Verified tokens are remembered by their SHA-256 until their `exp` (src/bridge/auth/token-cache.ts),
// for as long as the issuer's key set stays the same.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { Counter, Gauge } from 'prom-client';
import type { Identity } from '../../core/identity.js';
import type { GatehouseConfig } from '../../config/load-config.js';
import { durationMs } from '../../config/duration.js';
import { GatehouseError } from '../errors.js';
import { invalidToken, missingToken } from './auth-errors.js';
import { requireSameOrigin } from './same-origin.js';
import { mayCallRoute, type RouteAccess } from '../../core/access.js';
import { createKeyStore, type KeyStore } from './key-store.js';
import { createTokenVerifier, type TokenVerifier } from './verify-token.js';
import { VerifiedTokenCache } from './token-cache.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** false: the route is public (health, metrics, docs, signed webhooks). */
    auth?: boolean;
    /** Who may call the route beyond being authenticated. */
    access?: RouteAccess;
  }
  interface FastifyRequest {
    /** The verified caller; set on every route that requires authentication. */
    identity: Identity;
  }
  interface FastifyInstance {
    verifyToken: TokenVerifier;
    /** The issuer's keys as held: their age and whether the last refresh failed (/readyz). */
    issuerKeys: KeyStore;
  }
}

async function authPlugin(app: FastifyInstance, opts: { config: GatehouseConfig }) {
  const { auth, admins } = opts.config;
  const { tokenCacheSize } = auth;
  const keys = createKeyStore({
    issuer: auth.issuer,
    ...(auth.jwksUrl === undefined ? {} : { jwksUrl: auth.jwksUrl }),
    refreshMs: durationMs(auth.jwksRefresh),
    cooldownMs: durationMs(auth.jwksCooldown),
    fetchTimeoutMs: durationMs(auth.jwksTimeout),
  });
  const cacheLookups = new Counter({
    name: 'gatehouse_token_cache_lookups_total',
    help: 'Bearer tokens looked up in the verified-token cache, by result (hit: no signature check; miss: verified)',
    labelNames: ['result'],
    registers: [app.metrics.registry],
  });
  const cache = new VerifiedTokenCache<Identity>({
    maxEntries: tokenCacheSize,
    onLookup: (result) => cacheLookups.inc({ result }),
  });
  new Gauge({
    name: 'gatehouse_token_cache_entries',
    help: 'Verified tokens held in the cache',
    registers: [app.metrics.registry],
    collect() {
      this.set(cache.size);
    },
  });
  const verifyToken = createTokenVerifier(keys, {
    issuer: auth.issuer,
    audience: auth.audience,
    algorithms: auth.algorithms,
    types: auth.types,
    clockToleranceSeconds: durationMs(auth.clockTolerance) / 1000,
    claims: auth.claims,
    ...(tokenCacheSize > 0 ? { cache } : {}),
  });
  app.decorate('verifyToken', verifyToken);
  app.decorate('issuerKeys', keys);
  app.addHook('onClose', async () => keys.close());
  new Gauge({
    name: 'gatehouse_jwks_age_seconds',
    help: "Age of the issuer's key set the bridge verifies with (-1 before the first fetch)",
    registers: [app.metrics.registry],
    collect() {
      this.set(keys.state().ageSeconds ?? -1);
    },
  });
  new Gauge({
    name: 'gatehouse_jwks_stale',
    help: 'Whether the last JWKS refresh failed and the last good key set is being served (1) or not (0)',
    registers: [app.metrics.registry],
    collect() {
      this.set(keys.state().stale ? 1 : 0);
    },
  });
  const rules = { adminGroups: admins.groups };
  app.decorateRequest('identity', null as unknown as Identity);

  app.addHook('onRequest', async (request) => {
    const config = request.routeOptions.config;
    // Unmatched requests (404) carry no route config: treat them as public so the 404 is plain.
    if (config.auth === false || request.routeOptions.url === undefined) return;
    const session = app.sessionAuth;
    const cookie = session === undefined ? undefined : request.cookies[session.cookieName];
    if (session !== undefined && cookie !== undefined && request.headers.authorization === undefined) {
      requireSameOrigin(request, session.origin);
      request.identity = await session.verify(cookie);
    } else {
      request.identity = await verifyToken(bearerToken(request));
    }
    if (config.access !== undefined && !mayCallRoute(request.identity, config.access, rules)) {
      throw new GatehouseError('GATEHOUSE_FORBIDDEN', 'The caller may not use this route');
    }
  });
}

function bearerToken(request: FastifyRequest): string {
  const header = request.headers.authorization;
  if (header === undefined) throw missingToken();
  const [scheme, token, ...rest] = header.split(' ').filter(Boolean);
  if (scheme?.toLowerCase() !== 'bearer' || token === undefined) throw missingToken();
  // RFC 6750 §2.1 b64token syntax; anything else is refused before it reaches a parser.
  if (rest.length > 0 || !/^[A-Za-z0-9._~+/-]+=*$/.test(token)) {
    throw invalidToken('the token is malformed');
  }
  return token;
}

export default fp(authPlugin, { name: 'gatehouse-auth', dependencies: ['gatehouse-metrics', 'gatehouse-sign-in'] });
