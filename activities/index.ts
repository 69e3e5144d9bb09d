// The worker's activities, built from their dependencies (createActivities(deps)), as in
// temporalio/samples-typescript's activities-dependency-injection.
import { createPolicyActivities, type PolicyEngine } from './policy.js';

export interface ActivityDeps {
  policyEngine: PolicyEngine;
}

export function createActivities(deps: ActivityDeps) {
  return {
    ...createPolicyActivities(deps.policyEngine),
  };
}

export type Activities = ReturnType<typeof createActivities>;
