// The delivery list's page tokens: a token opens only under the query that gave it.
import { describe, expect, it } from 'vitest';
import { openDeliveryPageToken, sealDeliveryPageToken } from '../../../src/bridge/webhooks/delivery-page-token.js';
import { GatehouseError } from '../../../src/bridge/errors.js';
import { newDeliveryRecordId } from '../../../src/core/deliveries.js';

const id = newDeliveryRecordId(new Date('2030-01-01T00:00:00Z'), 'abcdef012345');
const refused = (token: string, filter: Record<string, string | undefined>) => {
  try {
    openDeliveryPageToken(token, filter);
  } catch (error) {
    return error instanceof GatehouseError ? error.code : String(error);
  }
  return 'opened';
};

describe('delivery page tokens', () => {
  it('open under the query that gave them, and under no other', () => {
    const accepted = { outcome: 'accepted', hook: undefined };
    const token = sealDeliveryPageToken(id, accepted);
    expect(openDeliveryPageToken(token, { hook: undefined, outcome: 'accepted' })).toBe(id);
    expect(openDeliveryPageToken(token, { outcome: 'accepted' })).toBe(id);
    for (const other of [
      { outcome: 'rejected' },
      { outcome: 'accepted', hook: 'x' },
      { outcome: 'accepted', hook: '' },
      {},
    ])
      expect(refused(token, other)).toBe('GATEHOUSE_INVALID_PAGE_TOKEN');
  });

  it('refuse a bare record id and anything this API did not give', () => {
    for (const token of [id, 'nope', '', Buffer.from('{"q":1}').toString('base64url')])
      expect(refused(token, {})).toBe('GATEHOUSE_INVALID_PAGE_TOKEN');
    const notAnId = Buffer.from(JSON.stringify({ q: 'x', b: "' OR 1=1" })).toString('base64url');
    expect(refused(notAnId, {})).toBe('GATEHOUSE_INVALID_PAGE_TOKEN');
  });
});
