// openid-client's failures as Gatehouse errors: the IdP refused (a used or wrong code, a bad PKCE
// verifier, a nonce or state that does not match, an ID token that does not verify) is a failed
// sign-in; the IdP not answering is a 503 the person can retry.
import * as client from 'openid-client';
import { GatehouseError } from '../errors.js';

export function fromIdpError(error: unknown, what: 'sign-in' | 'refresh'): GatehouseError {
  if (error instanceof GatehouseError) return error;
  const refused =
    error instanceof client.ResponseBodyError ||
    error instanceof client.AuthorizationResponseError ||
    error instanceof client.WWWAuthenticateChallengeError ||
    (error instanceof client.ClientError && error.code !== 'OAUTH_TIMEOUT' && !isNetworkError(error.cause));
  if (refused) {
    const code = (error as { error?: unknown }).error;
    const detail = `The identity provider refused the ${what}${typeof code === 'string' ? ` (${code})` : ''}`;
    return what === 'refresh'
      ? new GatehouseError('GATEHOUSE_SESSION_INVALID', detail, { cause: error })
      : new GatehouseError('GATEHOUSE_SIGN_IN_FAILED', detail, { cause: error });
  }
  return new GatehouseError('GATEHOUSE_IDP_UNAVAILABLE', 'The identity provider did not answer', {
    headers: { 'retry-after': '5' },
    cause: error,
  });
}

function isNetworkError(cause: unknown): boolean {
  return cause instanceof TypeError || (cause instanceof Error && cause.name === 'TimeoutError');
}
