// Named activity options: how long each kind of activity may take and how it is retried. Every
// policy refuses to retry the failure types that retrying cannot fix (src/core/failures.ts).
import type { ActivityOptions, RetryPolicy } from '@temporalio/common';
import type { CallbackRetry } from './callbacks.js';
import { finalFailureTypes } from './failures.js';

function retry(policy: Omit<RetryPolicy, 'nonRetryableErrorTypes'>): RetryPolicy {
  return { ...policy, nonRetryableErrorTypes: finalFailureTypes };
}

export const activityPolicies = {
  /** CPU work or config lookups on the worker: short, a few retries for a worker that died. */
  quick: { startToCloseTimeout: '10 seconds', retry: retry({ maximumAttempts: 3, initialInterval: '1 second' }) },
  /**
   * A fetch of the repository: network errors retry; a missing commit does not (CheckoutInvalid).
   * It heartbeats, so a fetch on a worker that died or was rolled is retried within the heartbeat
   * timeout, not after the five minutes a large repository may need.
   */
  checkout: {
    startToCloseTimeout: '5 minutes',
    heartbeatTimeout: '15 seconds',
    retry: retry({ maximumAttempts: 3, initialInterval: '2 seconds' }),
  },
  /** Status APIs flap: 5xx, 429 and network errors back off for about two minutes. */
  statusApi: {
    startToCloseTimeout: '15 seconds',
    retry: retry({
      initialInterval: '1 second',
      backoffCoefficient: 2,
      maximumInterval: '30 seconds',
      maximumAttempts: 8,
    }),
  },
  /** A provider's hook API for the reconciler: 5xx and network errors back off; rate limits are answers. */
  hookApi: {
    startToCloseTimeout: '60 seconds',
    retry: retry({
      initialInterval: '2 seconds',
      backoffCoefficient: 2,
      maximumInterval: '1 minute',
      maximumAttempts: 6,
    }),
  },
  /** Argo's API: 429, 5xx and network errors back off for a few minutes. */
  argoApi: {
    startToCloseTimeout: '60 seconds',
    retry: retry({
      initialInterval: '2 seconds',
      backoffCoefficient: 2,
      maximumInterval: '30 seconds',
      maximumAttempts: 10,
    }),
  },
  /** The ledger write is idempotent by key, so retrying it is always safe. */
  ledgerWrite: {
    startToCloseTimeout: '10 seconds',
    retry: retry({ initialInterval: '1 second', maximumInterval: '30 seconds', maximumAttempts: 20 }),
  },
  ledgerQuery: { startToCloseTimeout: '30 seconds', retry: retry({ maximumAttempts: 5 }) },
  /**
   * A closed job's state, read back from Temporal for its callback: a Temporal that is away (or
   * throttling long-polls) is waited out for as long as a callback is retried by default, a day,
   * since the callback waits on this read.
   */
  jobRead: {
    startToCloseTimeout: '30 seconds',
    scheduleToCloseTimeout: '24 hours',
    retry: retry({ initialInterval: '1 second', maximumInterval: '5 minutes' }),
  },
} satisfies Record<string, ActivityOptions>;

/**
 * One activity for a whole checkout and its steps: heartbeats carry the completed steps, so a
 * retry after a worker crash resumes after them; the job's cancel waits for the steps to die.
 */
export function stepsPolicy(totalStepTimeoutMs: number, heartbeatTimeoutMs: number): ActivityOptions {
  return {
    startToCloseTimeout: totalStepTimeoutMs + 300_000,
    heartbeatTimeout: heartbeatTimeoutMs,
    retry: retry({ maximumAttempts: 3, initialInterval: '1 second' }),
    cancellationType: 'WAIT_CANCELLATION_COMPLETED',
  };
}

/**
 * A completion callback's POST: the receiver's outage delays it, never loses it. Every failure but
 * a final one (CallbackRejected) is retried, the wait doubling from the initial interval up to the
 * maximum, with no cap on attempts, until `retryForMs` has passed since the first attempt
 * (schedule-to-close). The settings come from the delivering worker's config (callbacks.*).
 */
export function callbackPolicy(settings: CallbackRetry): ActivityOptions {
  return {
    // The attempt's own timeout is the fetch's; this one only catches a worker that died mid-POST.
    startToCloseTimeout: settings.attemptTimeoutMs + 5_000,
    scheduleToCloseTimeout: settings.retryForMs,
    retry: retry({
      initialInterval: settings.initialIntervalMs,
      backoffCoefficient: 2,
      maximumInterval: settings.maximumIntervalMs,
    }),
  };
}
