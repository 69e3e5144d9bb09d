// billingUsage: usage totals per owner and period from the ledger. The caller sees its own; an
// admin may name another owner, or `*` for everyone.
import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import type { UsageQuery, UsageTotals } from '../activities/billing.js';
import type { JobRequest } from '../activities/types.js';

const { queryUsage } = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { maximumAttempts: 5, nonRetryableErrorTypes: ['BillingAccessDenied', 'BillingQueryInvalid'] },
});

export async function billingUsage(request: JobRequest<UsageQuery>): Promise<UsageTotals> {
  return queryUsage(request.input, request.identity);
}
