// What each Git provider adapter supplies: how to find the event and delivery id in the headers,
// how to check the signature over the raw body, and how to normalize the payload. The check is
// chosen by the route (the provider in the URL), never by which headers a delivery happens to carry.
import type { GitEvent } from '../../activities/types.js';
import type { HookSecrets } from '../config/load-config.js';

export type Headers = Record<string, string | string[] | undefined>;

export interface DeliveryHeaders {
  event: string;
  deliveryId: string;
  /** The provider's id of the hook that sent it, when it says (GitHub delivery ids are shared across hooks). */
  providerHookId?: string;
}

/** The payload's parts that do not depend on the hook: everything but provider, hook and delivery id. */
export type NormalizedPayload = Omit<GitEvent, 'provider' | 'hook' | 'deliveryId' | 'event'>;

export interface ProviderAdapter {
  readonly name: GitEvent['provider'];
  /** Header names a delivery must carry; their absence is a 400 before any signature work. */
  readDelivery(headers: Headers): DeliveryHeaders | undefined;
  /** True only when a configured secret signs this exact raw body. */
  verify(headers: Headers, raw: Buffer, secrets: HookSecrets): Promise<boolean>;
  /** The payload object from the raw body (which content types it accepts is the provider's business). */
  parse(raw: Buffer, contentType: string): unknown;
  /** 'ping' for deliveries that only test the hook. */
  normalize(event: string, payload: Record<string, unknown>): NormalizedPayload | 'ping';
}

export function header(headers: Headers, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
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

/** `{ key: value }` when value is defined, `{}` otherwise: optional fields without `undefined`s. */
export function opt<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}
