// The worker's activities, built from their dependencies (createActivities(deps)), one group per
// concern. A worker builds only the groups its task queues need (src/core/workflow-catalog.ts),
// so a policy worker never opens the ledger or holds a status-API token. A group's module is
// loaded only when the group is built: the policy group's Cedar (WebAssembly, about 16 MB) stays
// out of every other worker, and the other groups' libraries out of the policy worker.
import type { AccessRules } from '../src/core/access.js';
import type { ActivityGroup } from '../src/core/workflow-catalog.js';
import type { ArgoDeps } from './argo.js';
import type { SqlClient } from './billing.js';
import type { CallbackDeps } from './callback.js';
import type { CiDeps } from './ci.js';
import type { StatusApis } from './commit-status.js';
import type { PolicyEngine } from './policy.js';
import type { ReconcileDeps } from './reconcile.js';

export interface ActivityDeps {
  policy: { engine: PolicyEngine; rules: AccessRules };
  billing: { ledger: SqlClient; rules: AccessRules };
  ci: CiDeps;
  commitStatus: { apis: StatusApis; timeoutMs: number };
  argo: ArgoDeps;
  reconcile: ReconcileDeps;
  callback: CallbackDeps;
}

const factories = {
  policy: async (deps: ActivityDeps['policy']) =>
    (await import('./policy.js')).createPolicyActivities(deps.engine, deps.rules),
  billing: async (deps: ActivityDeps['billing']) =>
    (await import('./billing.js')).createBillingActivities(deps.ledger, deps.rules),
  ci: async (deps: ActivityDeps['ci']) => (await import('./ci.js')).createCiActivities(deps),
  commitStatus: async (deps: ActivityDeps['commitStatus']) =>
    (await import('./commit-status.js')).createCommitStatusActivities(deps.apis, deps.timeoutMs),
  argo: async (deps: ActivityDeps['argo']) => (await import('./argo.js')).createArgoActivities(deps),
  reconcile: async (deps: ActivityDeps['reconcile']) =>
    (await import('./reconcile.js')).createReconcileActivities(deps),
  callback: async (deps: ActivityDeps['callback']) => (await import('./callback.js')).createCallbackActivities(deps),
} satisfies { [G in ActivityGroup]: (deps: ActivityDeps[G]) => Promise<object> };

type GroupActivities = { [G in ActivityGroup]: Awaited<ReturnType<(typeof factories)[G]>> };

/** Every activity of every group: the type workflows proxy. */
export type Activities = GroupActivities['policy'] &
  GroupActivities['billing'] &
  GroupActivities['ci'] &
  GroupActivities['commitStatus'] &
  GroupActivities['argo'] &
  GroupActivities['reconcile'] &
  GroupActivities['callback'];

/** The activities of the groups whose dependencies are given. */
export async function createActivities(deps: Partial<ActivityDeps>): Promise<Partial<Activities>> {
  const activities: Record<string, unknown> = {};
  for (const group of Object.keys(deps) as ActivityGroup[]) {
    const groupDeps = deps[group];
    if (groupDeps !== undefined)
      Object.assign(activities, await (factories[group] as (d: typeof groupDeps) => Promise<object>)(groupDeps));
  }
  return activities as Partial<Activities>;
}
