// Verified JWT claims → the Identity that goes into the workflow memo and reaches the activities.
// The principal is `jwt:<iss>#<sub>` (src/core/principal.ts): the same `sub` from another issuer is
// someone else. Groups and roles stay apart, so a role named like an admin group grants nothing.
import type { JWTPayload } from 'jose';
import type { Identity } from '../../core/identity.js';
import { jwtPrincipal } from '../../core/principal.js';
import { invalidToken } from './auth-errors.js';

export interface ClaimNames {
  groups: string;
  roles: string;
}

export function identityFromClaims(claims: JWTPayload, names: ClaimNames): Identity {
  if (typeof claims.sub !== 'string' || claims.sub.length === 0 || claims.sub.length > 255) {
    throw invalidToken('the "sub" claim is missing or not acceptable');
  }
  if (typeof claims.iss !== 'string') throw invalidToken('the "iss" claim is missing');
  const name = stringClaim(claims.name) ?? stringClaim(claims.preferred_username);
  const email = stringClaim(claims.email);
  const tokenId = stringClaim(claims.jti);
  return {
    method: 'jwt',
    principal: jwtPrincipal(claims.iss, claims.sub),
    issuer: claims.iss,
    subject: claims.sub,
    ...(name === undefined ? {} : { name }),
    ...(email === undefined ? {} : { email }),
    groups: unique(stringList(claims[names.groups])),
    roles: unique(stringList(claims[names.roles])),
    // OAuth 2.0 puts scopes in a space-separated `scope`; some IdPs use an `scp` array.
    scopes: unique([
      ...(typeof claims.scope === 'string' ? claims.scope.split(' ').filter(Boolean) : []),
      ...stringList(claims.scp),
    ]),
    ...(tokenId === undefined ? {} : { tokenId }),
  };
}

function stringClaim(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

function stringList(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string');
  return [];
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}
