// Which Temporal errors mean "Temporal cannot answer now" (never the caller's fault) and which do
// not, and the bridge's 503 for them: the mapping behind GATEHOUSE_TEMPORAL_UNAVAILABLE.
import { ServiceError } from '@temporalio/client';
import { NamespaceNotFoundError } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { temporalUnavailable } from '../../../src/bridge/temporal/unavailable.js';
import {
  asTemporalUnavailable,
  isTemporalUnavailable,
  TemporalUnavailable,
} from '../../../src/temporal/unavailable.js';

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

describe('TemporalUnavailable', () => {
  it('is itself an outage, keeps its cause, and tells a refusal from a timeout', () => {
    const timedOut = asTemporalUnavailable(grpc(4));
    expect(timedOut).toBeInstanceOf(TemporalUnavailable);
    expect(isTemporalUnavailable(timedOut)).toBe(true);
    expect(timedOut.cause).toMatchObject({ code: 4 });
    expect(timedOut.refused).toBe(false);
    expect(asTemporalUnavailable(timedOut)).toBe(timedOut);
    expect(asTemporalUnavailable(grpc(16)).refused).toBe(true);
    expect(asTemporalUnavailable(new NamespaceNotFoundError('default')).refused).toBe(true);
  });

  it('is answered as a 503 whose detail says whether Temporal refused or did not answer', () => {
    const late = temporalUnavailable(new TemporalUnavailable('no answer within 2000 ms'));
    expect(late).toMatchObject({ code: 'GATEHOUSE_TEMPORAL_UNAVAILABLE', status: 503 });
    expect(late.message).toBe('Temporal did not answer in time; retry later');
    expect(temporalUnavailable(grpc(7)).message).toBe('Temporal is unavailable; retry later');
  });
});
