// What a signed-in person may do behind the edge, decided by Cedar when the session is made (at
// sign-in and on every refresh) and carried in the session token, so HAProxy can apply it on every
// request without asking anyone: the Argo role per namespace (edit over view) and the Temporal
// access per namespace (write over read). Admins (admins.groups) have every Temporal namespace.
import { readFileSync } from 'node:fs';
import * as cedar from '@cedar-policy/cedar-wasm/nodejs';
import { isAdmin } from '../../core/access.js';
import type { Identity } from '../../core/identity.js';
import { configPath, type GatehouseConfig } from '../../config/load-config.js';
import type { SessionGrants } from './session-token.js';

export type Caller = Pick<Identity, 'principal' | 'issuer' | 'groups' | 'roles' | 'scopes'>;
export type GrantDecider = (caller: Caller) => SessionGrants;

export function createGrantDecider(config: GatehouseConfig): GrantDecider {
  const read = (path: string) => readFileSync(configPath(config, path), 'utf8');
  const policies = read(config.policy.policies);
  const entities =
    config.policy.entities === undefined ? [] : (JSON.parse(read(config.policy.entities)) as cedar.EntityJson[]);
  const { argo, temporal } = config.signIn!;
  const rules = { adminGroups: config.admins.groups };
  return (caller) => {
    const user = { type: 'Gatehouse::User', id: caller.principal };
    const known = entities.some((e) => {
      const uid = '__entity' in e.uid ? e.uid.__entity : e.uid;
      return uid.type === user.type && uid.id === user.id;
    });
    const callerEntities = known
      ? entities
      : [
          ...entities,
          {
            uid: user,
            attrs: { issuer: caller.issuer },
            parents: caller.groups.map((id) => ({ type: 'Gatehouse::Group', id })),
          },
        ];
    const allows = (action: string, type: string, id: string) => {
      const answer = cedar.isAuthorized({
        principal: user,
        action: { type: 'Gatehouse::Action', id: action },
        resource: { type, id },
        context: {},
        policies: { staticPolicies: policies },
        entities: callerEntities,
      });
      // A request Cedar cannot evaluate grants nothing (fail closed).
      return answer.type === 'success' && answer.response.decision === 'allow';
    };
    const argoGrants = argo.namespaces.flatMap((ns) => {
      if (allows('argo-edit', 'Gatehouse::ArgoNamespace', ns)) return [`${ns}:edit`];
      if (allows('argo-view', 'Gatehouse::ArgoNamespace', ns)) return [`${ns}:view`];
      return [];
    });
    const temporalGrants = isAdmin(caller, rules)
      ? ['*:write']
      : temporal.namespaces.flatMap((ns) => {
          if (allows('temporal-write', 'Gatehouse::TemporalNamespace', ns)) return [`${ns}:write`];
          if (allows('temporal-read', 'Gatehouse::TemporalNamespace', ns)) return [`${ns}:read`];
          return [];
        });
    return { argo: argoGrants.join(' '), temporal: temporalGrants.join(' ') };
  };
}
