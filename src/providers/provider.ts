// What each Git provider supplies, in one folder per provider (src/providers/<name>/) registered in
// src/providers/registry.ts: its webhook adapter (delivery headers, the signature check over the
// raw body, the payload normalizer), its commit-status API shape, its clone-URL rule and, when its
// API can find missed deliveries, its reconciler. The signature check is chosen by the route (the
// provider in the URL), never by which headers a delivery happens to carry.
import type { StatusReport } from '../core/commit-status.js';
import type { GitEvent } from '../core/git-event.js';
import type { Secret } from '../core/secret.js';
import type { ReconcilerCapability } from './reconciler.js';

/** A hook's resolved secrets: every one is accepted, so a secret can be rotated. */
export interface HookSecrets {
  secrets: Secret[];
  /** GitLab's optional signing tokens (Standard Webhooks); when set, the signature is required. */
  signingSecrets: Secret[];
}

export type Headers = Record<string, string | string[] | undefined>;

export interface DeliveryHeaders {
  event: string;
  deliveryId: string;
  /** The provider's id of the hook that sent it, when it says (GitHub delivery ids are shared across hooks). */
  providerHookId?: string;
}

/** The payload's parts that do not depend on the hook: everything but provider, hook and delivery id. */
export type NormalizedPayload = Omit<GitEvent, 'provider' | 'hook' | 'deliveryId' | 'event'>;

export interface WebhookAdapter {
  /** Header names a delivery must carry; their absence is a 400 before any signature work. */
  readDelivery(headers: Headers): DeliveryHeaders | undefined;
  /**
   * Whether the signature headers have the right form, checked before the body is read, so an
   * unsigned request cannot make the bridge buffer and hash megabytes.
   */
  looksSigned(headers: Headers, secrets: HookSecrets): boolean;
  /** True only when a configured secret signs this exact raw body. */
  verify(headers: Headers, raw: Buffer, secrets: HookSecrets): Promise<boolean> | boolean;
  /**
   * Whether the payload has the shape of the event its (unsigned) event header names, so a
   * signed body cannot be replayed as another kind of event.
   */
  matchesEvent(event: string, payload: Record<string, unknown>): boolean;
  /** The payload object from the raw body (which content types it accepts is the provider's business). */
  parse(raw: Buffer, contentType: string): unknown;
  /** 'ping' for deliveries that only test the hook. */
  normalize(event: string, payload: Record<string, unknown>): NormalizedPayload | 'ping';
  /**
   * The provider's headers kept in a delivery-log sample (lower case): those that say who sent it
   * and what, never a signature or a token.
   */
  readonly sampledHeaders?: readonly string[];
}

export function header(headers: Headers, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** A status API's address and credentials, from the worker's config. */
export interface StatusApiAccess {
  apiUrl: string;
  token: { reveal(): string };
}

export interface StatusRequest {
  url: string;
  body: unknown;
  headers: Record<string, string>;
}

export interface Provider {
  readonly name: string;
  readonly webhook: WebhookAdapter;
  /** The provider's REST call that sets a commit status. */
  statusRequest(report: StatusReport, api: StatusApiAccess): StatusRequest;
  /** The public web address of the provider's hosted service, for the clone-URL rule. */
  readonly defaultWebUrl: string;
  /** The https clone URL of `fullName` on the instance whose web address is `webUrl`. */
  cloneUrl(webUrl: string, fullName: string): string;
  /** Finding deliveries that failed or never arrived, where the provider's API can. */
  readonly reconciler?: ReconcilerCapability;
}

/** `https://host/owner/repo.git`: the rule every supported provider follows. */
export function gitHttpsUrl(webUrl: string, fullName: string): string {
  return `${webUrl.replace(/\/+$/, '')}/${fullName}.git`;
}

/** Typed access into untyped payloads: `at(p, 'repository', 'full_name')`. */
export function at(value: unknown, ...path: string[]): unknown {
  let current = value;
  for (const key of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

export function str(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 ? value : typeof value === 'number' ? String(value) : undefined;
}

/** Splits a Git ref into branch or tag. */
export function refParts(ref: string | undefined): { ref?: string; branch?: string; tag?: string } {
  if (ref === undefined) return {};
  if (ref.startsWith('refs/heads/')) return { ref, branch: ref.slice('refs/heads/'.length) };
  if (ref.startsWith('refs/tags/')) return { ref, tag: ref.slice('refs/tags/'.length) };
  return { ref };
}

export function parseJsonBody(raw: Buffer): unknown {
  return JSON.parse(raw.toString('utf8'));
}

export class PayloadError extends Error {
  override readonly name = 'PayloadError';
}

/** Whether `payload` has every one of `keys` (a shape check for event headers). */
export function hasKeys(payload: Record<string, unknown>, keys: readonly string[] | undefined): boolean {
  return (keys ?? []).every(
    (key) => Object.hasOwn(payload, key) && payload[key] !== null && payload[key] !== undefined,
  );
}

/** Delivery header values: printable ASCII, bounded, before anything reaches Temporal. */
export function boundedDelivery(delivery: DeliveryHeaders | undefined): DeliveryHeaders | undefined {
  if (delivery === undefined) return undefined;
  const plain = (value: string, max: number) =>
    value.length >= 1 && value.length <= max && /^[\x20-\x7e]+$/.test(value);
  if (!plain(delivery.event, 100) || !plain(delivery.deliveryId, 255) || /\s/.test(delivery.deliveryId))
    return undefined;
  if (delivery.providerHookId !== undefined && !plain(delivery.providerHookId, 255)) return undefined;
  return delivery;
}

/** A table lookup that only sees the table's own keys: `constructor` or `__proto__` name nothing. */
export function own<V>(table: Record<string, V>, key: string): V | undefined {
  return Object.hasOwn(table, key) ? table[key] : undefined;
}

/** `{ key: value }` when value is defined, `{}` otherwise: optional fields without `undefined`s. */
export function opt<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}
