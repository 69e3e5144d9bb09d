// The access module: every "may this caller do that to this thing" question is answered here and
// nowhere else, by the bridge and the activities alike. Ownership is always the caller's
// principal (src/core/principal.ts); admins are named by group, never by role or subject.
import type { Identity } from './identity.js';

export type Caller = Pick<Identity, 'principal' | 'groups' | 'roles' | 'scopes'>;

export interface AccessRules {
  adminGroups: readonly string[];
}

/** Who may call a route beyond being authenticated (the route's `access` in the config). */
export interface RouteAccess {
  groups: string[];
  roles: string[];
  scopes: string[];
  anyAuthenticated: boolean;
}

/** `*` in a usage query: every owner's usage (admins only). */
export const everyOwner = '*';

export function isAdmin(caller: Caller, rules: AccessRules): boolean {
  return caller.groups.some((group) => rules.adminGroups.includes(group));
}

export function mayCallRoute(caller: Caller, access: RouteAccess, rules: AccessRules): boolean {
  return (
    access.anyAuthenticated ||
    isAdmin(caller, rules) ||
    caller.groups.some((group) => access.groups.includes(group)) ||
    caller.roles.some((role) => access.roles.includes(role)) ||
    caller.scopes.some((scope) => access.scopes.includes(scope))
  );
}

/** Read, wait for, stream or cancel a job: its owner and admins; a job without an owner, nobody. */
export function mayActOnJob(caller: Caller, owner: string | undefined, rules: AccessRules): boolean {
  if (owner === undefined) return false;
  return owner === caller.principal || isAdmin(caller, rules);
}

/**
 * Whose jobs (or usage) a listing may cover: the caller's own when none is asked for; another
 * principal, or every owner, only for admins. `undefined` means the request is refused.
 */
export function ownerScope(caller: Caller, requested: string | undefined, rules: AccessRules): string | undefined {
  if (requested === undefined || requested === caller.principal) return caller.principal;
  return isAdmin(caller, rules) ? requested : undefined;
}

/** The jobs a webhook delivery started, and the delivery log: operators only. */
export function mayLookUpDeliveries(caller: Caller, rules: AccessRules): boolean {
  return isAdmin(caller, rules);
}

/** A policy question about somebody other than the caller: admins only. */
export function mayAskPolicyFor(caller: Caller, principalId: string | undefined, rules: AccessRules): boolean {
  return principalId === undefined || principalId === caller.principal || isAdmin(caller, rules);
}
