// The session token: a short-lived ES256 JWT that Gatehouse signs after a sign-in or a refresh.
// It carries the IdP's `iss` and `sub`, so the person is the same principal (jwt:<issuer>#<sub>)
// as with their bearer tokens, and the decisions the edge needs on every request: the roles per
// Argo namespace and the access per Temporal namespace, as flat strings HAProxy can read.
// `aud` is signIn.sessionAudience (plus the Kubernetes audience for Argo's session identity), never
// the API's audience, and `typ` marks it, so neither kind of token passes for the other.
import { randomUUID } from 'node:crypto';
import { errors as joseErrors, createLocalJWKSet, jwtVerify, SignJWT, type JWTPayload } from 'jose';
import type { Identity } from '../../core/identity.js';
import { identityFromClaims, type ClaimNames } from '../auth/identity-from-claims.js';
import { invalidToken } from '../auth/auth-errors.js';
import type { VerifiedTokenCache } from '../auth/token-cache.js';
import { withVerifiedTokenCache } from '../auth/verify-token.js';
import type { SessionKeys } from './session-keys.js';

export const sessionTokenType = 'gatehouse-session+jwt';

/** What a session says about its person, from the ID token (or the last one, on refresh). */
export interface SessionClaims {
  iss: string;
  sub: string;
  name?: string;
  email?: string;
  groups: string[];
  roles: string[];
}

export interface SessionGrants {
  /** "ns:role ns:role", the Argo role per namespace (view or edit). */
  argo: string;
  /** "ns:read ns:write", the Temporal access per namespace; "*:write" for admins. */
  temporal: string;
}

export interface MintSessionOptions {
  keys: SessionKeys;
  audience: string[];
  ttlSeconds: number;
  /** The sign-in this session belongs to; the same across refreshes. */
  sid: string;
  claimNames: ClaimNames;
  now?: () => number;
}

export async function mintSessionToken(
  claims: SessionClaims,
  grants: SessionGrants,
  options: MintSessionOptions,
): Promise<{ token: string; expiresAt: number }> {
  const now = Math.floor((options.now ?? Date.now)() / 1000);
  const expiresAt = now + options.ttlSeconds;
  const token = await new SignJWT({
    ...(claims.name === undefined ? {} : { name: claims.name }),
    ...(claims.email === undefined ? {} : { email: claims.email }),
    [options.claimNames.groups]: claims.groups,
    [options.claimNames.roles]: claims.roles,
    sid: options.sid,
    gh_argo: grants.argo,
    gh_temporal: grants.temporal,
  })
    .setProtectedHeader({ alg: 'ES256', kid: options.keys.signing.kid, typ: sessionTokenType })
    .setIssuer(claims.iss)
    .setSubject(claims.sub)
    .setAudience(options.audience.length === 1 ? options.audience[0]! : options.audience)
    .setIssuedAt(now)
    .setNotBefore(now)
    .setExpirationTime(expiresAt)
    .setJti(randomUUID())
    .sign(options.keys.signing.key);
  return { token, expiresAt };
}

export type SessionVerifier = (token: string) => Promise<Identity>;

/**
 * The bridge's own check of a session cookie: its keys, ES256 only, the issuer, the session
 * audience, the type. With a cache, a session verified once is answered from it until its `exp`,
 * as a bearer token is (a session is stateless: nothing revokes it before then). The session keys
 * are fixed for the process's life, so the cache has one generation.
 */
export function createSessionVerifier(
  keys: SessionKeys,
  options: {
    issuer: string;
    audience: string;
    clockToleranceSeconds: number;
    claims: ClaimNames;
    cache?: VerifiedTokenCache<Identity>;
  },
): SessionVerifier {
  const getKey = createLocalJWKSet(keys.jwks);
  const verify = async (token: string): Promise<{ identity: Identity; payload: JWTPayload }> => {
    let payload: JWTPayload;
    try {
      const verified = await jwtVerify(token, getKey, {
        issuer: options.issuer,
        audience: options.audience,
        algorithms: ['ES256'],
        typ: sessionTokenType,
        clockTolerance: options.clockToleranceSeconds,
        requiredClaims: ['exp', 'sub', 'sid'],
      });
      payload = verified.payload;
    } catch (error) {
      throw invalidToken(
        error instanceof joseErrors.JWTExpired ? 'the session has expired' : 'the session is not valid',
        error,
      );
    }
    return { identity: identityFromClaims(payload, options.claims), payload };
  };
  if (options.cache === undefined) return async (token) => (await verify(token)).identity;
  return withVerifiedTokenCache(verify, options.cache, { generation: () => 0, now: () => Date.now() });
}
