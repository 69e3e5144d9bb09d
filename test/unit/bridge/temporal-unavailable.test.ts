// Which Temporal errors the bridge answers as a retryable 503 (never the caller's fault) and which
// it does not: the mapping behind GATEHOUSE_TEMPORAL_UNAVAILABLE.
import { ServiceError } from '@temporalio/client';
import { NamespaceNotFoundError } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { isTemporalUnavailable, temporalUnavailable } from '../../../src/bridge/temporal/unavailable.js';

const grpc = (code: number) => Object.assign(new Error(`${code} grpc`), { code, details: '', metadata: {} });

describe('Temporal errors that are outages', () => {
  it('takes UNAVAILABLE, DEADLINE_EXCEEDED and refused credentials as outages, wrapped or not', () => {
    for (const code of [1, 4, 7, 8, 14, 16]) {
      expect(isTemporalUnavailable(grpc(code)), `code ${code}`).toBe(true);
      expect(isTemporalUnavailable(new ServiceError('Failed to start Workflow', { cause: grpc(code) }))).toBe(true);
    }
  });

  it("takes the bridge's own namespace reported missing as an outage (a frontend whose cache is empty)", () => {
    const missing = new NamespaceNotFoundError('default');
    expect(isTemporalUnavailable(missing)).toBe(true);
    expect(isTemporalUnavailable(new Error('wrapped', { cause: missing }))).toBe(true);
    const answer = temporalUnavailable(missing);
    expect(answer.status).toBe(503);
    expect(answer.headers['retry-after']).toBe('5');
    expect(answer.message).toBe('Temporal is unavailable; retry later');
  });

  it('does not take a bad request, a missing workflow or a plain bug for an outage', () => {
    for (const code of [3, 5, 6, 9, 13]) expect(isTemporalUnavailable(grpc(code)), `code ${code}`).toBe(false);
    expect(isTemporalUnavailable(new TypeError('undefined is not a function'))).toBe(false);
  });
});
