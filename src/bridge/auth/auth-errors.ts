// The two 401s, each with the RFC 6750 WWW-Authenticate challenge a client needs.
import { GatehouseError } from '../errors.js';

const realm = 'Bearer realm="gatehouse"';

export function invalidToken(description: string, cause?: unknown): GatehouseError {
  return new GatehouseError('GATEHOUSE_INVALID_TOKEN', description, {
    headers: { 'www-authenticate': `${realm}, error="invalid_token", error_description="${description}"` },
    cause,
  });
}

export function missingToken(): GatehouseError {
  return new GatehouseError('GATEHOUSE_UNAUTHENTICATED', 'A bearer token is required', {
    headers: { 'www-authenticate': realm },
  });
}
