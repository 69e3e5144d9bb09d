// Bearer-token verification with jose against the issuer's JWKS: algorithms from an
// allow-list, `iss`, `aud`, `exp` and `nbf` with a small clock tolerance. An unknown `kid` makes
// jose refetch the JWKS at most once per cool-down, so a flood of forged kids cannot hammer the IdP.
import { createRemoteJWKSet, errors as joseErrors, jwtVerify, type JWTPayload } from 'jose';
import type { Identity } from '../../core/identity.js';
import { discoverJwksUrl } from '../../config/oidc-discovery.js';
import { GatehouseError } from '../errors.js';
import { invalidToken } from './auth-errors.js';
import { identityFromClaims, type ClaimNames } from './identity-from-claims.js';

export interface TokenVerifierOptions {
  issuer: string;
  audience: string;
  /** The JWKS; when absent it comes from the issuer's OIDC discovery document. */
  jwksUrl?: string;
  algorithms: string[];
  clockToleranceSeconds: number;
  jwksCooldownMs: number;
  fetchTimeoutMs: number;
  claims: ClaimNames;
}

export type TokenVerifier = (token: string) => Promise<Identity>;

export function createTokenVerifier(options: TokenVerifierOptions): TokenVerifier {
  let jwks: Promise<ReturnType<typeof createRemoteJWKSet>> | undefined;
  const keySet = () => {
    // Discovery is retried on the next request after a failure instead of pinning the failure.
    jwks ??= discoverJwksUrl(options.issuer, options.jwksUrl, options.fetchTimeoutMs).then(
      (url) =>
        createRemoteJWKSet(url, { cooldownDuration: options.jwksCooldownMs, timeoutDuration: options.fetchTimeoutMs }),
      (error: unknown) => {
        jwks = undefined;
        throw error;
      },
    );
    return jwks;
  };

  return async (token) => {
    let payload: JWTPayload;
    try {
      const { payload: verified } = await jwtVerify(token, await keySet(), {
        issuer: options.issuer,
        audience: options.audience,
        algorithms: options.algorithms,
        clockTolerance: options.clockToleranceSeconds,
        requiredClaims: ['exp', 'sub'],
      });
      payload = verified;
    } catch (error) {
      throw toAuthError(error);
    }
    return identityFromClaims(payload, options.claims);
  };
}

/** A token we could not check (IdP down) is a 503; a token that failed a check is a 401. */
function toAuthError(error: unknown): GatehouseError {
  if (error instanceof GatehouseError) return error;
  const unavailable =
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
