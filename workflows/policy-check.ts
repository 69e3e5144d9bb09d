// policyCheck: answers "may this principal take this action on this resource?" with Cedar, and
// keeps the decision and the policies that decided it as the job's result, for audit.
import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import type { PolicyDecision, PolicyQuery } from '../activities/policy.js';
import type { JobRequest } from '../src/core/identity.js';
import { activityPolicies } from '../src/core/retry-policies.js';

// Evaluation is pure CPU work on the worker: a short timeout, and a few retries for a worker that
// died mid-call. A malformed query fails non-retryably inside the activity.
const { evaluatePolicy } = proxyActivities<Activities>(activityPolicies.quick);

export interface PolicyCheckResult extends PolicyDecision {
  query: PolicyQuery;
  requestedBy: string;
}

export async function policyCheck(request: JobRequest<PolicyQuery>): Promise<PolicyCheckResult> {
  const decision = await evaluatePolicy(request.input, request.identity);
  return { ...decision, query: request.input, requestedBy: request.identity.principal };
}
