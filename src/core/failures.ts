// The worker's failure types: every business failure a workflow or an activity reports, in one
// table. Throwers use `fail(type, message, options)`, which sets `nonRetryable` from the table and
// keeps the underlying `cause`; retry policies derive their non-retryable lists from it; the job
// API reports the type as `failure.type`. Importable by workflows (no Node built-ins).
import { ApplicationFailure } from '@temporalio/common';

export const failureTypes = {
  PolicyDenied: { retryable: false, doc: 'Cedar denied run-ci to the caller; nothing ran' },
  PolicyAccessDenied: {
    retryable: false,
    doc: 'a policy question about another principal, from a caller who is not an admin',
  },
  PolicyRequestInvalid: { retryable: false, doc: 'a policy query Cedar cannot parse stays unparsable' },
  CiEventInvalid: { retryable: false, doc: 'the event names no commit or repository to build' },
  PipelineMisconfigured: { retryable: false, doc: "the matching pipeline lacks its runner's settings" },
  PipelineFailed: { retryable: false, doc: 'a step or the Argo Workflow failed; statuses and usage were recorded' },
  CheckoutInvalid: { retryable: false, doc: 'the repository does not have that commit, or it is not a SHA' },
  CheckoutFailed: { retryable: true, doc: 'git could not fetch the repository (network, server)' },
  StatusReportRejected: {
    retryable: false,
    doc: 'the status API refused the status with a 4xx (token, repository, commit)',
  },
  StatusReportUnconfigured: { retryable: false, doc: 'no status API is configured for the provider' },
  StatusApiUnavailable: { retryable: true, doc: 'the status API answered 5xx or 429, or could not be reached' },
  ArgoRejected: {
    retryable: false,
    doc: 'Argo answered 400, 401, 403 or 404: a bad manifest, credentials or namespace',
  },
  ArgoUnavailable: { retryable: true, doc: 'Argo answered 429 or 5xx, or could not be reached' },
  BillingAccessDenied: { retryable: false, doc: "only admins may read another owner's usage" },
  BillingQueryInvalid: { retryable: false, doc: 'the usage query has no valid period' },
  ReconcilerRejected: {
    retryable: false,
    doc: "the provider's hook API refused the reconciler with a 4xx (token, permissions, hook id), answered what it does not take (a redirect, an oversized body), or it is not configured",
  },
  CallbackUnavailable: {
    retryable: true,
    doc: 'the callback receiver answered other than 2xx (a redirect too), timed out or could not be reached',
  },
  CallbackCircuitOpen: {
    retryable: true,
    doc: "no attempt was made: the receiver host's circuit is open after consecutive failures (callbacks.breaker); tried again after its cool-down",
  },
  CallbackRejected: {
    retryable: false,
    doc: 'the receiver answered 410 Gone, or callbacks.receivers no longer allows the URL for this job, or the receiver has no key',
  },
  CallbackUndelivered: {
    retryable: false,
    doc: 'a completion callback was given up: callbacks.retryFor ran out, or it was rejected',
  },
  JobUnreadable: {
    retryable: false,
    doc: "the job a callback reports on is gone from Temporal (past the namespace's retention)",
  },
} as const satisfies Record<string, { retryable: boolean; doc: string }>;

export type FailureType = keyof typeof failureTypes;

/** The types that retrying cannot fix; every retry policy refuses to retry them. */
export const finalFailureTypes: string[] = Object.entries(failureTypes)
  .filter(([, definition]) => !definition.retryable)
  .map(([type]) => type);

export interface FailOptions {
  cause?: Error;
  details?: unknown[];
  /** For a retryable failure: the wait before the next attempt, instead of the policy's backoff. */
  nextRetryDelayMs?: number;
}

/** The failure of `type`, retryable or not as the table says. */
export function fail(type: FailureType, message: string, options: FailOptions = {}): ApplicationFailure {
  return ApplicationFailure.create({
    type,
    message,
    nonRetryable: !failureTypes[type].retryable,
    ...(options.cause === undefined ? {} : { cause: options.cause }),
    ...(options.details === undefined ? {} : { details: options.details }),
    ...(options.nextRetryDelayMs === undefined ? {} : { nextRetryDelay: options.nextRetryDelayMs }),
  });
}
