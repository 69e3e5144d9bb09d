// Bearer-token verification with jose against the issuer's keys (src/bridge/auth/key-store.ts):
// algorithms from an allow-list, `iss`, `aud`, `exp` and `nbf` with a small clock tolerance, and
// the token type (`typ`) from an allow-list, so an ID token is not taken for an access token.
// With a cache (src/bridge/auth/token-cache.ts), a token that passed is remembered by its SHA-256
// until its `exp`, for the key set it was verified with: a cached token is answered exactly as jose
// would answer it, because only tokens already inside their validity window are kept (nbf and iat
// in the past, without the clock tolerance) and each entry ends at `exp` itself, before jose's
// tolerance would end it; past `exp` the token is verified again, and jose decides. Failures are
// never cached.
import { errors as joseErrors, jwtVerify, type JWTPayload } from 'jose';
import type { Identity } from '../../core/identity.js';
import { GatehouseError } from '../errors.js';
import { invalidToken } from './auth-errors.js';
import { identityFromClaims, type ClaimNames } from './identity-from-claims.js';
import { KeysUnavailableError, type KeyStore } from './key-store.js';
import { tokenDigest, type VerifiedTokenCache } from './token-cache.js';

export interface TokenVerifierOptions {
  issuer: string;
  audience: string;
  algorithms: string[];
  /** Accepted `typ` header values, compared without case and without an `application/` prefix. */
  types: string[];
  clockToleranceSeconds: number;
  claims: ClaimNames;
  /** Verified tokens by SHA-256; absent, every token is verified every time. */
  cache?: VerifiedTokenCache<Identity>;
  /** The clock the cache is checked against (jose's is Date); for tests. */
  now?: () => number;
}

export type TokenVerifier = (token: string) => Promise<Identity>;

export function createTokenVerifier(keys: KeyStore, options: TokenVerifierOptions): TokenVerifier {
  const types = new Set(options.types.map(plainType));
  const { cache } = options;
  const now = options.now ?? (() => Date.now());
  const verify = async (token: string): Promise<{ identity: Identity; payload: JWTPayload }> => {
    let payload: JWTPayload;
    try {
      const { payload: verified, protectedHeader } = await jwtVerify(token, keys.getKey, {
        issuer: options.issuer,
        audience: options.audience,
        algorithms: options.algorithms,
        clockTolerance: options.clockToleranceSeconds,
        requiredClaims: ['exp', 'sub'],
      });
      if (!types.has(plainType(protectedHeader.typ ?? ''))) throw invalidToken('the token type is not accepted');
      payload = verified;
    } catch (error) {
      throw toAuthError(error);
    }
    return { identity: identityFromClaims(payload, options.claims), payload };
  };
  if (cache === undefined) return async (token) => (await verify(token)).identity;
  return withVerifiedTokenCache(verify, cache, { generation: () => keys.generation, now });
}

/**
 * `verify` answered from `cache` for a token it has verified, until the token's `exp`, for one
 * generation of the key set (`generation`); failures are never cached. Shared by bearer tokens and
 * the bridge's session cookies.
 */
export function withVerifiedTokenCache(
  verify: (token: string) => Promise<{ identity: Identity; payload: JWTPayload }>,
  cache: VerifiedTokenCache<Identity>,
  options: { generation: () => number; now: () => number },
): TokenVerifier {
  return async (token) => {
    const digest = tokenDigest(token);
    const generation = options.generation();
    const cached = cache.get(digest, generation);
    if (cached !== undefined) return cached;
    const { identity, payload } = await verify(token);
    const window = cacheWindow(payload, options.now());
    if (window !== undefined) cache.set(digest, deepFreeze(identity), window, generation);
    return identity;
  };
}

/**
 * When a verified token may be answered from the cache: from its `nbf` and `iat` until its `exp`,
 * without any clock tolerance, if now is inside that window; undefined (not cached) otherwise.
 */
function cacheWindow(payload: JWTPayload, nowMs: number): { validFromMs: number; expiresAtMs: number } | undefined {
  const { exp, nbf, iat } = payload;
  if (typeof exp !== 'number') return undefined;
  const validFromMs = Math.max(nbf ?? Number.NEGATIVE_INFINITY, iat ?? Number.NEGATIVE_INFINITY) * 1000;
  const expiresAtMs = exp * 1000;
  return validFromMs <= nowMs && nowMs < expiresAtMs ? { validFromMs, expiresAtMs } : undefined;
}

/** A cached identity is shared by every request that presents the token: nobody may change it. */
function deepFreeze<T extends object>(value: T): T {
  for (const inner of Object.values(value)) if (typeof inner === 'object' && inner !== null) deepFreeze(inner);
  return Object.freeze(value);
}

function plainType(typ: string): string {
  return typ.toLowerCase().replace(/^application\//, '');
}

/** A token we could not check (IdP down) is a 503; a token that failed a check is a 401. */
function toAuthError(error: unknown): GatehouseError {
  if (error instanceof GatehouseError) return error;
  const unavailable =
    error instanceof KeysUnavailableError ||
    error instanceof joseErrors.JWKSTimeout ||
    error instanceof joseErrors.JWKSInvalid ||
    !(error instanceof joseErrors.JOSEError) ||
    (error.code === 'ERR_JOSE_GENERIC' && /Expected 200 OK/.test(error.message));
  if (unavailable) {
    return new GatehouseError(
      'GATEHOUSE_IDP_UNAVAILABLE',
      'The token could not be checked: the identity provider did not answer',
      {
        headers: { 'retry-after': '5' },
        cause: error,
      },
    );
  }
  const description = describeJoseError(error);
  return invalidToken(description, error);
}

function describeJoseError(error: InstanceType<typeof joseErrors.JOSEError>): string {
  if (error instanceof joseErrors.JWTExpired) return 'the token has expired';
  if (error instanceof joseErrors.JWTClaimValidationFailed) return `the "${error.claim}" claim is not acceptable`;
  if (error instanceof joseErrors.JOSEAlgNotAllowed) return 'the token is signed with an algorithm that is not allowed';
  if (error instanceof joseErrors.JWKSNoMatchingKey) return 'the token is signed with an unknown key';
  if (error instanceof joseErrors.JWSSignatureVerificationFailed) return 'the token signature is not valid';
  return 'the token is malformed';
}
