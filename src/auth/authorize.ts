// Who may do what: route access from the config, admin membership, and job visibility.
import type { Identity } from '../../activities/types.js';

export interface RouteAccess {
  groups: string[];
  scopes: string[];
  anyAuthenticated: boolean;
}

export function isAdmin(identity: Identity, adminGroups: readonly string[]): boolean {
  return identity.groups.some((group) => adminGroups.includes(group));
}

export function mayCallRoute(identity: Identity, access: RouteAccess, adminGroups: readonly string[]): boolean {
  return (
    access.anyAuthenticated ||
    isAdmin(identity, adminGroups) ||
    identity.groups.some((group) => access.groups.includes(group)) ||
    identity.scopes.some((scope) => access.scopes.includes(scope))
  );
}

/** A job is visible to the identity that started it (same issuer and subject) and to admins. */
export function maySeeJob(caller: Identity, owner: Pick<Identity, 'issuer' | 'subject'> | undefined, adminGroups: readonly string[]): boolean {
  if (isAdmin(caller, adminGroups)) return owner !== undefined;
  return owner !== undefined && owner.issuer === caller.issuer && owner.subject === caller.subject;
}
