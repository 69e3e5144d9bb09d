// The reconciler as a capability a provider may have: a provider whose API lists a hook's recent
// deliveries and sends one again declares it in its folder (src/providers/<name>/reconciler.ts),
// and the config schema, the config check, the worker's secrets, its API clients and the
// schedules all read it from the registry. One workflow (workflows/reconcile-hook.ts) checks the
// hook of any provider through the client below; what to ask for is decided in
// src/core/reconcile.ts.
import type { TSchema } from 'typebox';
import type { SecretReference } from '../core/config-values.js';
import type { ObservedDelivery } from '../core/reconcile.js';
import type { Secret } from '../core/secret.js';

/** What every provider's `reconcile` block holds, whatever else it says. */
export interface ReconcileBlock {
  apiUrl: string;
  every: string;
  lookback: string;
  maxAttempts: number;
  /** Ask for failed deliveries again (otherwise only watch the hook's health). */
  resend?: boolean;
}

export interface ReconcilerCapability {
  /** The hook's `reconcile` block: this provider's form in the config schema (titled by provider). */
  readonly settings: TSchema;
  /** How long the provider keeps a hook's deliveries: the longest lookback that means anything. */
  readonly keeps: string;
  /**
   * The listed keys are the delivery ids the intake records, so the delivery log can tell which
   * successes never reached Gatehouse (something else answered for it).
   */
  readonly comparesWithLog: boolean;
  /** The provider disables a failing hook, and the check reports the hook's health first. */
  readonly watchesHealth: boolean;
  /** What is wrong with a block on this provider's hook, beyond its schema (paths under `at`). */
  check(block: ReconcileBlock, at: string): string[];
  /** The secrets the block names, by their path inside it (`token`, `app/privateKey`). */
  secrets(block: ReconcileBlock): Record<string, SecretReference>;
  /** The client of one hook's API, with the block's secrets resolved (by the same paths). */
  connect(block: ReconcileBlock, secrets: ReadonlyMap<string, Secret>, timeoutMs: number): Promise<HookApiClient>;
}

/** The provider said to wait: the call was not made (or refused) and may be repeated at `until` (epoch ms). */
export interface RateLimited {
  rateLimited: true;
  until: number;
}

/** One page of a hook's deliveries, newest first. */
export interface DeliveryListing {
  deliveries: ObservedDelivery[];
  /** Where the next (older) page starts, when there is one. */
  next?: string;
  /** The window's last request was used: wait until then before the next call (epoch ms). */
  pauseUntil?: number;
}

export interface HookHealth {
  /** The provider's word for it (GitLab: executable, temporarily_disabled, disabled). */
  alertStatus: string;
  /** 0 executable, 1 temporarily disabled, 2 disabled: gatehouse_webhook_hook_alert. */
  alertLevel: 0 | 1 | 2;
}

export interface RedeliveryAnswer {
  /** `refused`: not now (asked again at the next check); `gone`: the provider no longer has it. */
  answer: 'asked' | 'refused' | 'gone';
  /** What was asked, for the delivery log: "GitHub delivery 12", "GitLab event 7, answered 200". */
  asked: string;
  pauseUntil?: number;
}

/** A hook's API as the reconciler uses it. Rate limits are answers, so a workflow can wait durably. */
export interface HookApiClient {
  /** Only where the capability `watchesHealth`. */
  readHealth?(): Promise<HookHealth>;
  list(cursor: string | undefined, perPage?: number): Promise<DeliveryListing | RateLimited>;
  redeliver(delivery: { id: number; key: string }): Promise<RedeliveryAnswer | RateLimited>;
}
