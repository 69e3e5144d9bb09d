// The delivery list's page tokens: the id of the last record of a page, bound to the query that
// paged to it (as the jobs list binds Temporal's tokens), so a token taken from one query is
// refused by another instead of silently paging through it.
import { isDeliveryRecordId } from '../../core/deliveries.js';
import { GatehouseError } from '../errors.js';
import { digest } from '../jobs/derive-job-id.js';

/** What a token is bound to: the list's filters, as the route read them (not the page size). */
export type DeliveryListFilter = Record<string, string | undefined>;

/** The filters given (an absent one is not an empty one), in a fixed order. */
function fingerprint(filter: DeliveryListFilter): string {
  return digest(
    Object.entries(filter)
      .filter((entry): entry is [string, string] => entry[1] !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .flat(),
  );
}

export function sealDeliveryPageToken(lastId: string, filter: DeliveryListFilter): string {
  return Buffer.from(JSON.stringify({ q: fingerprint(filter), b: lastId })).toString('base64url');
}

/** The record id to page on from; a token from another query, or not from this API, is a 400. */
export function openDeliveryPageToken(token: string, filter: DeliveryListFilter): string {
  try {
    const { q, b } = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { q?: unknown; b?: unknown };
    if (q === fingerprint(filter) && typeof b === 'string' && isDeliveryRecordId(b)) return b;
  } catch {
    // fall through: a token this API did not give
  }
  throw new GatehouseError(
    'GATEHOUSE_INVALID_PAGE_TOKEN',
    'The page token does not belong to this query; start again without it',
  );
}
