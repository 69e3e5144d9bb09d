import { describe, expect, it } from 'vitest';
import { deriveJobId } from '../../../src/bridge/jobs/derive-job-id.js';
import { isJobId } from '../../../src/core/job-id.js';
import { jobsQuery as buildVisibilityQuery, quote, supersededQuery } from '../../../src/core/visibility.js';

const alice = 'jwt:https://idp#alice';
const bob = 'jwt:https://idp#bob';

describe('deriveJobId', () => {
  it('is the same for the same caller, route and key, and differs when any of them differs', () => {
    const key = { kind: 'idempotency-key', value: 'k1' } as const;
    const id = deriveJobId('policy-check', alice, key);
    expect(deriveJobId('policy-check', alice, key)).toBe(id);
    expect(deriveJobId('policy-check', bob, key)).not.toBe(id);
    expect(deriveJobId('deploy-check', alice, key)).not.toBe(id);
    expect(deriveJobId('policy-check', alice, { kind: 'idempotency-key', value: 'k2' })).not.toBe(id);
    // An Idempotency-Key and an X-Request-ID with the same text are different keys.
    expect(deriveJobId('policy-check', alice, { kind: 'request-id', value: 'k1' })).not.toBe(id);
    expect(deriveJobId('policy-check', 'jwt:https://other#alice', key)).not.toBe(id);
  });

  it('keys a webhook delivery by provider, hook and signed body: not by its unsigned delivery id or sender', () => {
    const delivery = {
      kind: 'delivery',
      provider: 'github',
      hook: 'default',
      bodySha256: 'b1',
      deliveryId: 'd1',
    } as const;
    const id = deriveJobId('git-event', 'webhook:github:1', delivery);
    expect(id).toMatch(/^github\./);
    expect(deriveJobId('git-event', 'webhook:github:2', delivery)).toBe(id);
    expect(deriveJobId('git-event', 'webhook:github:1', { ...delivery, deliveryId: 'replayed' })).toBe(id);
    expect(deriveJobId('git-event', 'webhook:github:1', { ...delivery, bodySha256: 'b2' })).not.toBe(id);
    expect(deriveJobId('git-event', 'webhook:github:1', { ...delivery, hook: 'enterprise' })).not.toBe(id);
  });

  it('is fresh every time without a key', () => {
    expect(deriveJobId('r', alice, { kind: 'none' })).not.toBe(deriveJobId('r', alice, { kind: 'none' }));
  });

  it('matches the job id pattern, and the pattern refuses path tricks', () => {
    expect(isJobId(deriveJobId('policy-check', alice, { kind: 'none' }))).toBe(true);
    for (const bad of [
      '../etc',
      'policy-check.',
      'policy-check.short',
      'a/b.AAAAAAAAAAAAAAAAAAAAAAAA',
      'x.AAAAAAAAAAAAAAAAAAA%2F',
      '',
    ]) {
      expect(isJobId(bad), bad).toBe(false);
    }
  });
});

describe('visibility query', () => {
  it('quotes values so that they cannot add clauses', () => {
    expect(quote("o'brien")).toBe("'o\\'brien'");
    expect(quote('a\\')).toBe("'a\\\\'");
    expect(buildVisibilityQuery({ owner: "x' OR GatehouseOwner != '" })).toBe(
      "GatehouseOwner = 'x\\' OR GatehouseOwner != \\''",
    );
  });

  it("adds route and status filters in the query language's own status names", () => {
    expect(buildVisibilityQuery({ owner: 'a', route: 'r', status: 'TIMED_OUT' })).toBe(
      "GatehouseOwner = 'a' AND GatehouseRoute = 'r' AND ExecutionStatus = 'TimedOut'",
    );
  });

  it('never lists without an owner or a delivery', () => {
    expect(() => buildVisibilityQuery({ route: 'r' })).toThrow(RangeError);
  });

  it('finds superseded runs by their quoted concurrency key', () => {
    expect(supersededQuery({ ref: "k'1", workflowType: 'ciPipeline', workflowId: 'w', startedBefore: 't' })).toBe(
      "GatehouseRef = 'k\\'1' AND ExecutionStatus = 'Running' AND WorkflowType = 'ciPipeline' AND StartTime < 't' AND WorkflowId != 'w'",
    );
  });
});
