// The embedded delivery log: records in this process's memory, for a single bridge (several
// replicas need the PostgreSQL log, or each would see only its own deliveries). It holds at most
// `maxEntries` records: an append beyond that drops the oldest at once, so memory stays bounded
// between the caller's prunes (which apply the configured retention and maximum).
//
// Decisions:
//  - Records sit in one array sorted by id. Ids are time-ordered text, so the array is also in
//    arrival order: an append is nearly always a push at the end (an out-of-order id is placed by
//    binary search), and `list` walks back from the end (or from `before`, found by binary search)
//    and stops after `limit` matches, so a page costs a walk over the newest records, not a sort
//    of all of them. The oldest are at the front, so the maximum is kept by cutting the front.
//  - `seen` answers from an index by provider, hook and delivery id of the records that prove a
//    delivery arrived: sent by the provider (origin `provider`) with a signature that verified
//    (a body hash). Reconciler records and unauthenticated samples are not in it: the first only
//    say a redelivery was asked for, the second can be sent by anybody with any delivery id. The
//    index counts the records per delivery id so prune can drop an id once its last record goes.
//  - Every string of a record is made well formed on the way in (wellFormedRecord): NUL removed,
//    a lone UTF-16 surrogate replaced by U+FFFD. PostgreSQL refuses both, and the PostgreSQL log
//    uses the same function, so both stores keep the same text. Query values are treated the same
//    way, so a filter written with the raw text finds the record. This copy is also what keeps the
//    store apart from the caller's objects; records go out copied (structuredClone).
//  - `since` and prune's age compare instants (parsed), not text, like PostgreSQL's timestamptz;
//    a receivedAt or since that is not a date is refused rather than silently never matching.
import type { DeliveryLog, DeliveryQuery, DeliveryRecord } from '../core/deliveries.js';
import { checkCount, countsAsSeen, instantMs, wellFormedQuery, wellFormedRecord, wellFormedText } from './records.js';

interface Entry {
  record: DeliveryRecord;
  receivedMs: number;
}

export interface MemoryDeliveryLogOptions {
  /** The most records held; an append beyond it drops the oldest (default 100,000). */
  maxEntries?: number;
}

export const defaultMaxEntries = 100_000;

export function createMemoryDeliveryLog(options: MemoryDeliveryLogOptions = {}): DeliveryLog {
  const maxEntries = options.maxEntries ?? defaultMaxEntries;
  if (!Number.isInteger(maxEntries) || maxEntries < 1) throw new RangeError('maxEntries must be a whole number >= 1');
  /** Sorted by id, oldest first. */
  let entries: Entry[] = [];
  const byId = new Map<string, Entry>();
  /** `provider \0 hook` → delivery id → how many records that count as seen have it. */
  const seenIndex = new Map<string, Map<string, number>>();
  let closed = false;

  const hookKey = (provider: string, hook: string) => `${provider}\u0000${hook}`;

  function assertOpen(): void {
    if (closed) throw new Error('the delivery log is closed');
  }

  function indexAdd(record: DeliveryRecord): void {
    if (!countsAsSeen(record)) return;
    const key = hookKey(record.provider, record.hook);
    let ids = seenIndex.get(key);
    if (ids === undefined) seenIndex.set(key, (ids = new Map()));
    ids.set(record.deliveryId, (ids.get(record.deliveryId) ?? 0) + 1);
  }

  function indexRemove(record: DeliveryRecord): void {
    if (!countsAsSeen(record)) return;
    const key = hookKey(record.provider, record.hook);
    const ids = seenIndex.get(key);
    const count = ids?.get(record.deliveryId);
    if (ids === undefined || count === undefined) return;
    if (count > 1) ids.set(record.deliveryId, count - 1);
    else {
      ids.delete(record.deliveryId);
      if (ids.size === 0) seenIndex.delete(key);
    }
  }

  /** The index of the first entry whose id is not less than `id`. */
  function lowerBound(id: string): number {
    let low = 0;
    let high = entries.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (entries[middle]!.record.id < id) low = middle + 1;
      else high = middle;
    }
    return low;
  }

  function matches(entry: Entry, query: DeliveryQuery, sinceMs: number | undefined): boolean {
    const r = entry.record;
    return (
      (query.provider === undefined || r.provider === query.provider) &&
      (query.hook === undefined || r.hook === query.hook) &&
      (query.outcome === undefined || r.outcome === query.outcome) &&
      (query.repository === undefined || r.repository === query.repository) &&
      (query.deliveryId === undefined || r.deliveryId === query.deliveryId) &&
      (sinceMs === undefined || entry.receivedMs >= sinceMs)
    );
  }

  return {
    kind: 'memory',

    async append(records) {
      assertOpen();
      // Check the whole batch first, so a bad record leaves the store as it was.
      const batch = records.map((record) => ({
        record: wellFormedRecord(record),
        receivedMs: instantMs(record.receivedAt),
      }));
      for (const entry of batch) {
        const id = entry.record.id;
        if (byId.has(id)) continue;
        const last = entries.at(-1);
        if (last === undefined || last.record.id < id) entries.push(entry);
        else entries.splice(lowerBound(id), 0, entry);
        byId.set(id, entry);
        indexAdd(entry.record);
      }
      if (entries.length > maxEntries) {
        for (const entry of entries.splice(0, entries.length - maxEntries)) {
          byId.delete(entry.record.id);
          indexRemove(entry.record);
        }
      }
    },

    async list(raw) {
      assertOpen();
      checkCount(raw.limit, 'limit');
      const query = wellFormedQuery(raw);
      const sinceMs = query.since === undefined ? undefined : instantMs(query.since);
      const found: DeliveryRecord[] = [];
      let index = (query.before === undefined ? entries.length : lowerBound(query.before)) - 1;
      for (; index >= 0 && found.length < query.limit; index -= 1) {
        const entry = entries[index]!;
        if (matches(entry, query, sinceMs)) found.push(structuredClone(entry.record));
      }
      return found;
    },

    async get(id) {
      assertOpen();
      const entry = byId.get(wellFormedText(id));
      return entry === undefined ? undefined : structuredClone(entry.record);
    },

    async seen(provider, hook, deliveryIds) {
      assertOpen();
      const ids = seenIndex.get(hookKey(wellFormedText(provider), wellFormedText(hook)));
      return new Set(ids === undefined ? [] : deliveryIds.filter((id) => ids.has(wellFormedText(id))));
    },

    async prune(olderThan, keep) {
      assertOpen();
      const cutoff = olderThan.getTime();
      if (Number.isNaN(cutoff)) throw new RangeError('prune: olderThan is not a valid date');
      checkCount(keep, 'keep');
      const before = entries.length;
      const young = entries.filter((entry) => entry.receivedMs >= cutoff);
      const kept = young.length > keep ? young.slice(young.length - keep) : young;
      if (kept.length === before) return 0;
      const keptIds = new Set(kept.map((entry) => entry.record.id));
      for (const entry of entries) {
        if (keptIds.has(entry.record.id)) continue;
        byId.delete(entry.record.id);
        indexRemove(entry.record);
      }
      entries = kept;
      return before - kept.length;
    },

    async close() {
      closed = true;
      entries = [];
      byId.clear();
      seenIndex.clear();
    },
  };
}
