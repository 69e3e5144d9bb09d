// Making a session from what the IdP said about a person: the grants Cedar decides, the session
// token, and the cookies that carry it, the refresh token and the logout hint. Used by the
// sign-in callback and by the refresh, so both make exactly the same session.
import type { FastifyInstance } from 'fastify';
import type { GatehouseConfig } from '../../config/load-config.js';
import { durationMs } from '../../config/duration.js';
import { jwtPrincipal } from '../../core/principal.js';
import { GatehouseError } from '../errors.js';
import { cookieNames, setCookieHeader } from './cookies.js';
import type { GrantDecider } from './grants.js';
import type { CookieSealer } from './sealed-cookie.js';
import type { SessionKeys } from './session-keys.js';
import { mintSessionToken, type SessionClaims } from './session-token.js';

/** What the refresh cookie holds (sealed). */
export interface RefreshState extends Record<string, unknown> {
  rt: string;
  sid: string;
  claims: SessionClaims;
  /** Unix seconds: the session is refreshed until then (signIn.maxSessionAge after sign-in). */
  until: number;
}

export interface IssuedSession {
  token: string;
  setCookies: string[];
}

export interface SessionIssuer {
  issue(
    claims: SessionClaims,
    tokens: { refreshToken?: string; idToken?: string },
    session: { sid: string; until: number },
  ): Promise<IssuedSession>;
  /** SessionClaims from verified ID token claims, refusing what would not fit in a cookie. */
  claimsFrom(idClaims: Record<string, unknown>): SessionClaims;
}

export function createSessionIssuer(
  app: FastifyInstance,
  config: GatehouseConfig,
  deps: { keys: SessionKeys; sealer: CookieSealer; grants: GrantDecider; now?: () => number },
): SessionIssuer {
  const signIn = config.signIn!;
  const now = deps.now ?? Date.now;
  const ttlSeconds = durationMs(signIn.sessionTtl) / 1000;
  const audience = [
    signIn.sessionAudience,
    ...(signIn.argo.kubernetesAudience ? [signIn.argo.kubernetesAudience] : []),
  ];
  const names = config.auth.claims;
  return {
    claimsFrom(idClaims) {
      const text = (value: unknown) => (typeof value === 'string' && value.length > 0 ? value : undefined);
      const list = (value: unknown) =>
        typeof value === 'string'
          ? [value]
          : Array.isArray(value)
            ? value.filter((v): v is string => typeof v === 'string')
            : [];
      const groups = [...new Set(list(idClaims[names.groups]))];
      const roles = [...new Set(list(idClaims[names.roles]))];
      if (groups.length + roles.length > signIn.maxGroups) {
        throw new GatehouseError(
          'GATEHOUSE_SESSION_TOO_LARGE',
          `The ID token names ${groups.length + roles.length} groups and roles; a session carries at most signIn.maxGroups (${signIn.maxGroups})`,
        );
      }
      const name = text(idClaims.name) ?? text(idClaims.preferred_username);
      const email = text(idClaims.email);
      return {
        iss: String(idClaims.iss),
        sub: String(idClaims.sub),
        ...(name === undefined ? {} : { name }),
        ...(email === undefined ? {} : { email }),
        groups,
        roles,
      };
    },
    async issue(claims, tokens, session) {
      const grants = deps.grants({
        principal: jwtPrincipal(claims.iss, claims.sub),
        issuer: claims.iss,
        groups: claims.groups,
        roles: claims.roles,
        scopes: [],
      });
      const minted = await mintSessionToken(claims, grants, {
        keys: deps.keys,
        audience,
        ttlSeconds,
        sid: session.sid,
        claimNames: names,
        now,
      });
      const nowSeconds = Math.floor(now() / 1000);
      const setCookies = [setCookieHeader(app, cookieNames.session, minted.token, ttlSeconds)];
      if (tokens.refreshToken !== undefined) {
        const state: RefreshState = { rt: tokens.refreshToken, sid: session.sid, claims, until: session.until };
        const sealed = await deps.sealer.seal('refresh', state, session.until);
        setCookies.push(setCookieHeader(app, cookieNames.refresh, sealed, session.until - nowSeconds));
      }
      if (tokens.idToken !== undefined) {
        const sealed = await deps.sealer.seal('logout', { idt: tokens.idToken }, session.until);
        setCookies.push(setCookieHeader(app, cookieNames.logout, sealed, session.until - nowSeconds));
      }
      return { token: minted.token, setCookies };
    },
  };
}
