// The worker's activities, built from their dependencies (createActivities(deps)), one group per
// concern. A worker builds only the groups its task queues need (src/core/workflow-catalog.ts),
// so a policy worker never opens the ledger or holds a status-API token.
import type { AccessRules } from '../src/core/access.js';
import type { ActivityGroup } from '../src/core/workflow-catalog.js';
import { createArgoActivities, type ArgoDeps } from './argo.js';
import { createBillingActivities, type SqlClient } from './billing.js';
import { createCallbackActivities, type CallbackDeps } from './callback.js';
import { createCiActivities, type CiDeps } from './ci.js';
import { createGitStatusActivities, type StatusApis } from './git-status.js';
import { createPolicyActivities, type PolicyEngine } from './policy.js';
import { createReconcileActivities, type ReconcileDeps } from './reconcile.js';

export interface ActivityDeps {
  policy: { engine: PolicyEngine; rules: AccessRules };
  billing: { ledger: SqlClient; rules: AccessRules };
  ci: CiDeps;
  commitStatus: StatusApis;
  argo: ArgoDeps;
  reconcile: ReconcileDeps;
  callback: CallbackDeps;
}

const factories = {
  policy: (deps: ActivityDeps['policy']) => createPolicyActivities(deps.engine, deps.rules),
  billing: (deps: ActivityDeps['billing']) => createBillingActivities(deps.ledger, deps.rules),
  ci: (deps: ActivityDeps['ci']) => createCiActivities(deps),
  commitStatus: (deps: ActivityDeps['commitStatus']) => createGitStatusActivities(deps),
  argo: (deps: ActivityDeps['argo']) => createArgoActivities(deps),
  reconcile: (deps: ActivityDeps['reconcile']) => createReconcileActivities(deps),
  callback: (deps: ActivityDeps['callback']) => createCallbackActivities(deps),
} satisfies { [G in ActivityGroup]: (deps: ActivityDeps[G]) => object };

type GroupActivities = { [G in ActivityGroup]: ReturnType<(typeof factories)[G]> };

/** Every activity of every group: the type workflows proxy. */
export type Activities = GroupActivities['policy'] &
  GroupActivities['billing'] &
  GroupActivities['ci'] &
  GroupActivities['commitStatus'] &
  GroupActivities['argo'] &
  GroupActivities['reconcile'] &
  GroupActivities['callback'];

/** The activities of the groups whose dependencies are given. */
export function createActivities(deps: Partial<ActivityDeps>): Partial<Activities> {
  const activities: Record<string, unknown> = {};
  for (const group of Object.keys(deps) as ActivityGroup[]) {
    const groupDeps = deps[group];
    if (groupDeps !== undefined)
      Object.assign(activities, (factories[group] as (d: typeof groupDeps) => object)(groupDeps));
  }
  return activities as Partial<Activities>;
}
