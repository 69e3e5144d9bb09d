// The embedded delivery log: records in this process's memory, for a single bridge (several
// replicas need the PostgreSQL log, or each would see only its own deliveries). It holds at most
// `maxEntries` records and, apart from them, at most `maxSamples` samples: an append beyond either
// drops the oldest of that kind at once, so memory stays bounded between the caller's prunes
// (which apply the configured retention and maxima), and a flood of samples never pushes out a
// real record.
// Why it works as it does: docs/webhooks.md, "The embedded delivery log".
import type { DeliveryLog, DeliveryQuery, DeliveryRecord } from '../core/deliveries.js';
import {
  checkCaps,
  checkCount,
  countsAsSeen,
  instantMs,
  isSample,
  wellFormedQuery,
  wellFormedRecord,
  wellFormedText,
} from './records.js';

interface Entry {
  record: DeliveryRecord;
  receivedMs: number;
}

/** webhooks.deliveryLog.maxEntries and maxSamples (their defaults are the config schema's). */
export interface MemoryDeliveryLogOptions {
  /** The most records held; an append beyond it drops the oldest. */
  maxEntries: number;
  /** The most samples held, apart from the records; an append beyond it drops the oldest. */
  maxSamples: number;
}

export function createMemoryDeliveryLog(options: MemoryDeliveryLogOptions): DeliveryLog {
  const maxEntries = checkMaximum(options.maxEntries, 'maxEntries');
  const maxSamples = checkMaximum(options.maxSamples, 'maxSamples');
  /** Each sorted by id, oldest first. */
  const held = { records: [] as Entry[], samples: [] as Entry[] };
  const byId = new Map<string, Entry>();
  /** `provider \0 hook \0 body hash` → the records of that body that count as seen, by id. */
  const bodies = new Map<string, Entry[]>();
  /** `provider \0 hook` → delivery id → how many first records of a body have it. */
  const seenIndex = new Map<string, Map<string, number>>();
  let closed = false;

  const hookKey = (provider: string, hook: string) => `${provider}\u0000${hook}`;

  function assertOpen(): void {
    if (closed) throw new Error('the delivery log is closed');
  }

  function countSeen(record: DeliveryRecord & { deliveryId: string }, change: 1 | -1): void {
    const key = hookKey(record.provider, record.hook);
    let ids = seenIndex.get(key);
    if (ids === undefined) seenIndex.set(key, (ids = new Map()));
    const count = (ids.get(record.deliveryId) ?? 0) + change;
    if (count > 0) ids.set(record.deliveryId, count);
    else {
      ids.delete(record.deliveryId);
      if (ids.size === 0) seenIndex.delete(key);
    }
  }

  function indexAdd(entry: Entry): void {
    const { record } = entry;
    if (!countsAsSeen(record)) return;
    const key = `${hookKey(record.provider, record.hook)}\u0000${record.bodySha256}`;
    const same = bodies.get(key);
    if (same === undefined) {
      bodies.set(key, [entry]);
      countSeen(record, 1);
      return;
    }
    const at = lowerBound(same, record.id);
    same.splice(at, 0, entry);
    if (at === 0) {
      countSeen(same[1]!.record as typeof record, -1);
      countSeen(record, 1);
    }
  }

  function indexRemove(entry: Entry): void {
    const { record } = entry;
    if (!countsAsSeen(record)) return;
    const key = `${hookKey(record.provider, record.hook)}\u0000${record.bodySha256}`;
    const same = bodies.get(key);
    const at = same?.indexOf(entry) ?? -1;
    if (same === undefined || at < 0) return;
    same.splice(at, 1);
    if (at !== 0) return;
    countSeen(record, -1);
    if (same.length === 0) bodies.delete(key);
    else countSeen(same[0]!.record as typeof record, 1);
  }

  function drop(entries: readonly Entry[]): void {
    for (const entry of entries) {
      byId.delete(entry.record.id);
      indexRemove(entry);
    }
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

  /** Keeps the `keep` newest of `entries` received at or after `cutoff`; returns the array kept. */
  function pruned(entries: Entry[], cutoff: number, keep: number): Entry[] {
    const young = entries.filter((entry) => entry.receivedMs >= cutoff);
    const kept = young.length > keep ? young.slice(young.length - keep) : young;
    if (kept.length === entries.length) return entries;
    const keptIds = new Set(kept.map((entry) => entry.record.id));
    drop(entries.filter((entry) => !keptIds.has(entry.record.id)));
    return kept;
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
        const entries = isSample(entry.record) ? held.samples : held.records;
        const last = entries.at(-1);
        if (last === undefined || last.record.id < id) entries.push(entry);
        else entries.splice(lowerBound(entries, id), 0, entry);
        byId.set(id, entry);
        indexAdd(entry);
      }
      if (held.records.length > maxEntries) drop(held.records.splice(0, held.records.length - maxEntries));
      if (held.samples.length > maxSamples) drop(held.samples.splice(0, held.samples.length - maxSamples));
    },

    async list(raw) {
      assertOpen();
      checkCount(raw.limit, 'limit');
      const query = wellFormedQuery(raw);
      const sinceMs = query.since === undefined ? undefined : instantMs(query.since);
      const start = (entries: Entry[]) =>
        (query.before === undefined ? entries.length : lowerBound(entries, query.before)) - 1;
      const { records, samples } = held;
      let r = start(records);
      let s = start(samples);
      const found: DeliveryRecord[] = [];
      while (found.length < query.limit && (r >= 0 || s >= 0)) {
        // The newer of the two fronts, walking back.
        const takeRecord = s < 0 || (r >= 0 && records[r]!.record.id > samples[s]!.record.id);
        const entry = takeRecord ? records[r--]! : samples[s--]!;
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
      checkCaps(keep);
      const before = held.records.length + held.samples.length;
      held.records = pruned(held.records, cutoff, keep.records);
      held.samples = pruned(held.samples, cutoff, keep.samples);
      return before - held.records.length - held.samples.length;
    },

    async close() {
      closed = true;
      held.records = [];
      held.samples = [];
      byId.clear();
      bodies.clear();
      seenIndex.clear();
    },
  };
}

/** The index of the first entry whose id is not less than `id`. */
function lowerBound(entries: readonly Entry[], id: string): number {
  let low = 0;
  let high = entries.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (entries[middle]!.record.id < id) low = middle + 1;
    else high = middle;
  }
  return low;
}

function checkMaximum(value: number, name: string): number {
  if (!Number.isInteger(value) || value < 1) throw new RangeError(`${name} must be a whole number >= 1`);
  return value;
}
