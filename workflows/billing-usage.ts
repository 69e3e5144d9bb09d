// billingUsage: usage totals per owner and period from the ledger. The caller sees its own; an
// admin may name another owner, or `*` for everyone.
import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import type { UsageQuery, UsageTotals } from '../activities/billing.js';
import type { JobRequest } from '../src/core/identity.js';
import { activityPolicies } from '../src/core/retry-policies.js';

const { queryUsage } = proxyActivities<Activities>(activityPolicies.ledgerQuery);

export async function billingUsage(request: JobRequest<UsageQuery>): Promise<UsageTotals> {
  return queryUsage(request.input, request.identity);
}
