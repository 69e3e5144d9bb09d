// The worker's activities, built from their dependencies (createActivities(deps)), as in
// temporalio/samples-typescript's activities-dependency-injection.
import { createArgoActivities, type ArgoDeps } from './argo.js';
import { createBillingActivities, type SqlClient } from './billing.js';
import { createCiActivities, type CiDeps } from './ci.js';
import { createGitStatusActivities, type StatusApi } from './git-status.js';
import { createPolicyActivities, type PolicyEngine } from './policy.js';
import type { GitEvent } from './types.js';

export interface ActivityDeps {
  policyEngine: PolicyEngine;
  ledger: SqlClient;
  adminGroups: readonly string[];
  ci: CiDeps;
  statusApis: Partial<Record<GitEvent['provider'], StatusApi>>;
  argo: ArgoDeps;
}

export function createActivities(deps: ActivityDeps) {
  return {
    ...createPolicyActivities(deps.policyEngine),
    ...createBillingActivities(deps.ledger, deps.adminGroups),
    ...createCiActivities(deps.ci),
    ...createGitStatusActivities(deps.statusApis),
    ...createArgoActivities(deps.argo),
  };
}

export type Activities = ReturnType<typeof createActivities>;
