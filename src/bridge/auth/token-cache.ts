// Verified tokens, remembered so that a caller's next request with the same token skips the
// signature check (~160 µs for RS256). Keyed by the SHA-256 of the compact token, never the token
// itself; the value is the Identity built from its verified claims. The verifier
// (src/bridge/auth/verify-token.ts) decides what may be cached; this file only holds entries:
// each until its absolute expiry (the token's `exp`), at most `maxEntries` of them (least recently
// used first out), and only for one generation of the issuer's key set: when the key set changes,
// every entry goes, so a key the issuer stopped publishing stops admitting tokens at once.
import { createHash } from 'node:crypto';

export interface TokenCacheOptions {
  /** Entries kept at most; the least recently used goes first. 0 turns the cache off. */
  maxEntries: number;
  /** Milliseconds since the epoch; the same clock jose uses (Date.now) unless a test says otherwise. */
  now?: () => number;
  /** Called on every lookup, for the hit/miss counter. */
  onLookup?: (outcome: 'hit' | 'miss') => void;
}

interface Entry<V> {
  value: V;
  /** Served only while validFromMs <= now < expiresAtMs (a clock set back does not widen it). */
  validFromMs: number;
  expiresAtMs: number;
}

/** The cache key of a compact JWS: its SHA-256, so the token itself is never kept. */
export function tokenDigest(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}

export class VerifiedTokenCache<V> {
  readonly maxEntries: number;
  #entries = new Map<string, Entry<V>>();
  #generation: number | undefined;
  #now: () => number;
  #onLookup: ((outcome: 'hit' | 'miss') => void) | undefined;
  hits = 0;
  misses = 0;

  constructor(options: TokenCacheOptions) {
    if (!Number.isInteger(options.maxEntries) || options.maxEntries < 0) {
      throw new RangeError('maxEntries must be a whole number, 0 or more');
    }
    this.maxEntries = options.maxEntries;
    this.#now = options.now ?? (() => Date.now());
    this.#onLookup = options.onLookup;
  }

  get size(): number {
    return this.#entries.size;
  }

  /**
   * The value cached under `digest` for this key-set `generation`, if it has not expired. A newer
   * generation than the entries' drops them all first.
   */
  get(digest: string, generation: number): V | undefined {
    const entry = this.#adopt(generation) ? this.#entries.get(digest) : undefined;
    let value: V | undefined;
    if (entry !== undefined) {
      this.#entries.delete(digest);
      const now = this.#now();
      if (entry.validFromMs <= now && now < entry.expiresAtMs) {
        // Re-inserted last: Map order is the recency order, so the first key is the LRU one.
        this.#entries.set(digest, entry);
        value = entry.value;
      }
    }
    if (value === undefined) this.misses += 1;
    else this.hits += 1;
    this.#onLookup?.(value === undefined ? 'miss' : 'hit');
    return value;
  }

  /**
   * Keeps `value` from `validFromMs` until `expiresAtMs`, if now is inside that window and
   * `generation` is the current key set (a verification that began before the key set changed is
   * not kept).
   */
  set(digest: string, value: V, window: { validFromMs?: number; expiresAtMs: number }, generation: number): void {
    const { validFromMs = Number.NEGATIVE_INFINITY, expiresAtMs } = window;
    if (this.maxEntries === 0 || !this.#adopt(generation)) return;
    const now = this.#now();
    if (!(validFromMs <= now && now < expiresAtMs)) return;
    this.#entries.delete(digest);
    while (this.#entries.size >= this.maxEntries) {
      const oldest = this.#entries.keys().next().value as string;
      this.#entries.delete(oldest);
    }
    this.#entries.set(digest, { value, validFromMs, expiresAtMs });
  }

  clear(): void {
    this.#entries.clear();
  }

  /**
   * Moves to a newer key-set generation, dropping every entry; false for an older generation (a
   * verification that began before the key set changed), whose answer is not kept or served.
   */
  #adopt(generation: number): boolean {
    if (this.#generation === generation) return true;
    if (this.#generation !== undefined && generation < this.#generation) return false;
    this.#entries.clear();
    this.#generation = generation;
    return true;
  }
}
