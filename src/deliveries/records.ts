// What both delivery-log stores (memory and PostgreSQL) do to records and queries alike, so they
// keep the same text, refuse the same values and count the same records as seen.
import type { DeliveryLogCaps, DeliveryQuery, DeliveryRecord } from '../core/deliveries.js';

/**
 * Whether a record may prove that the provider's delivery reached the bridge: sent by the provider
 * (not a replay or the reconciler's request), verified (only a verified body has a hash), and not
 * a sample. Of the records of one body (provider, hook and body hash), only the first (the lowest
 * id) proves it: the provider sent that body once, under its own delivery id, and a copy sent
 * again under another id (by anybody holding the captured body) proves nothing.
 */
export function countsAsSeen(
  record: DeliveryRecord,
): record is DeliveryRecord & { deliveryId: string; bodySha256: string } {
  return record.origin === 'provider' && record.bodySha256 !== null && record.deliveryId !== null && !isSample(record);
}

/** A record kept as a sample (see DeliveryRecord.sample): it has a cap of its own. */
export function isSample(record: DeliveryRecord): boolean {
  return record.sample !== null;
}

const needsWork = /[\u0000\uD800-\uDFFF]/;
const loneSurrogate = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** `text` without NUL and with each lone UTF-16 surrogate replaced by U+FFFD (paired ones stay). */
export function wellFormedText(text: string): string {
  if (!needsWork.test(text)) return text;
  return text.replaceAll('\u0000', '').replace(loneSurrogate, '\uFFFD');
}

function wellFormedValue(value: unknown): unknown {
  if (typeof value === 'string') return wellFormedText(value);
  if (Array.isArray(value)) return value.map(wellFormedValue);
  if (value !== null && typeof value === 'object')
    return Object.fromEntries(
      Object.entries(value).map(([key, inner]) => [wellFormedText(key), wellFormedValue(inner)]),
    );
  return value;
}

/**
 * A deep copy of the record with every string (text fields, and keys and values inside `sample`
 * and `gitEvent`) made well formed: what both stores write, so one hostile title cannot make
 * PostgreSQL refuse a batch.
 */
export function wellFormedRecord(record: DeliveryRecord): DeliveryRecord {
  return wellFormedValue(record) as DeliveryRecord;
}

/** The query with its text values made well formed, as the stored records are. */
export function wellFormedQuery(query: DeliveryQuery): DeliveryQuery {
  return wellFormedValue(query) as DeliveryQuery;
}

/** The instant `text` names, in epoch milliseconds; a text that is not a date is refused. */
export function instantMs(text: string): number {
  const ms = Date.parse(text);
  if (Number.isNaN(ms)) throw new RangeError(`not an ISO 8601 instant: ${JSON.stringify(text)}`);
  return ms;
}

export function checkCount(value: number, name: string): void {
  if (!Number.isInteger(value) || value < 0) throw new RangeError(`${name} must be a whole number >= 0`);
}

export function checkCaps(caps: DeliveryLogCaps): void {
  checkCount(caps.records, 'keep.records');
  checkCount(caps.samples, 'keep.samples');
}
