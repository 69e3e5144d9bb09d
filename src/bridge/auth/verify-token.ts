// Bearer-token verification with jose against the issuer's keys (src/bridge/auth/key-store.ts):
// algorithms from an allow-list, `iss`, `aud`, `exp` and `nbf` with a small clock tolerance, and
// the token type (`typ`) from an allow-list, so an ID token is not taken for an access token.
import { errors as joseErrors, jwtVerify, type JWTPayload } from 'jose';
import type { Identity } from '../../core/identity.js';
import { GatehouseError } from '../errors.js';
import { invalidToken } from './auth-errors.js';
import { identityFromClaims, type ClaimNames } from './identity-from-claims.js';
import { KeysUnavailableError, type KeyStore } from './key-store.js';

export interface TokenVerifierOptions {
  issuer: string;
  audience: string;
  algorithms: string[];
  /** Accepted `typ` header values, compared without case and without an `application/` prefix. */
  types: string[];
  clockToleranceSeconds: number;
  claims: ClaimNames;
}

export type TokenVerifier = (token: string) => Promise<Identity>;

export function createTokenVerifier(keys: KeyStore, options: TokenVerifierOptions): TokenVerifier {
  const types = new Set(options.types.map(plainType));
  return async (token) => {
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
    return identityFromClaims(payload, options.claims);
  };
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
