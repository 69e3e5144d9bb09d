// What the reconciler asks for again, decided without any API: failed events (their newest send),
// succeeded events the delivery log never saw, never the same send twice, at most maxAttempts asks
// per event (then given up, reported once), and the state that lets the next check read only
// what is new; ids a provider lists screened (implausible, out of order), a check that cannot be
// blinded by one high id, and a state that stays bounded.
import { describe, expect, it } from 'vitest';
import {
  askGone,
  askRefused,
  emptyReconcileState,
  isNewDelivery,
  isPastDelivery,
  maxOpenEvents,
  maxOrderSkewMs,
  planRedeliveries,
  readBackTo,
  screenListing,
  type ObservedDelivery,
} from '../../../src/core/reconcile.js';

const now = Date.parse('2026-11-22T12:00:00Z');
const options = { maxAttempts: 2, unseen: new Set<string>(), now, keepMs: 3 * 86_400_000 };
const send = (id: number, key: string, ok: boolean): ObservedDelivery => ({ id, key, ok, at: now - 1000 });

describe('planRedeliveries', () => {
  it('asks again for events none of whose sends succeeded, by their newest send', () => {
    const plan = planRedeliveries(
      [send(13, 'b', false), send(12, 'a', true), send(11, 'b', false), send(10, 'a', false)],
      emptyReconcileState,
      options,
    );
    expect(plan.redeliver).toEqual([{ id: 13, key: 'b', reason: 'failed' }]);
    expect(plan.state.after).toBe(13);
    expect(plan.state.attempts.b).toEqual({ count: 1, lastId: 13, at: now });
  });

  it('asks again for events that succeeded at the provider but never reached the log', () => {
    const plan = planRedeliveries([send(20, 'c', true), send(21, 'd', true)], emptyReconcileState, {
      ...options,
      unseen: new Set(['d']),
    });
    expect(plan.redeliver).toEqual([{ id: 21, key: 'd', reason: 'unseen' }]);
  });

  it('never asks twice for the same send, and gives an event up after maxAttempts, reporting it once', () => {
    const first = planRedeliveries([send(30, 'e', false)], emptyReconcileState, options);
    expect(first.redeliver).toHaveLength(1);
    const same = planRedeliveries([send(30, 'e', false)], first.state, options);
    expect(same.redeliver).toEqual([]);
    expect(same.waiting).toEqual(['e']);
    const second = planRedeliveries([send(31, 'e', false)], first.state, options);
    expect(second.redeliver).toEqual([{ id: 31, key: 'e', reason: 'failed' }]);
    const third = planRedeliveries([send(32, 'e', false)], second.state, options);
    expect(third.redeliver).toEqual([]);
    expect(third.abandoned).toEqual(['e']);
    const fourth = planRedeliveries([send(33, 'e', false)], third.state, options);
    expect(fourth.redeliver).toEqual([]);
    expect(fourth.abandoned).toEqual([]);
  });

  it('asks for at most maxAsks in one check, leaving the rest open for the next', () => {
    const plan = planRedeliveries(
      [send(70, 'i', false), send(71, 'j', false), send(72, 'k', false)],
      emptyReconcileState,
      {
        ...options,
        maxAsks: 2,
      },
    );
    expect(plan.redeliver).toHaveLength(2);
    const left = ['i', 'j', 'k'].find((key) => !plan.redeliver.some((ask) => ask.key === key))!;
    expect(plan.state.attempts[left]?.count).toBe(0);
    expect(readBackTo(plan.state)).toBeLessThan(70);
    const next = planRedeliveries(
      [send(70, 'i', false), send(71, 'j', false), send(72, 'k', false)],
      plan.state,
      options,
    );
    expect(next.redeliver.map((ask) => ask.key)).toEqual([left]);
  });

  it('forgets asks older than the provider keeps deliveries, and keeps the newest id examined', () => {
    const old = { after: 50, attempts: { f: { count: 2, lastId: 40, at: now - 4 * 86_400_000 } } };
    const plan = planRedeliveries([], old, options);
    expect(plan.state).toEqual({ after: 50, attempts: {} });
  });

  it('reads back to the oldest open event, closes an event once a send of it succeeds, and re-asks a refused send without counting it', () => {
    const first = planRedeliveries([send(60, 'g', false), send(61, 'h', false)], emptyReconcileState, options);
    expect(first.state.after).toBe(61);
    expect(readBackTo(first.state)).toBe(59);
    // The provider refused g's ask: the same send may be asked for again.
    const refused = askRefused(first.state, 'g');
    expect(readBackTo(refused)).toBe(58);
    const again = planRedeliveries([send(60, 'g', false), send(61, 'h', false), send(62, 'h', true)], refused, options);
    expect(again.redeliver).toEqual([{ id: 60, key: 'g', reason: 'failed' }]);
    expect(again.state.attempts.h).toBeUndefined();
    // The refusal did not count against maxAttempts: this is the first ask that went through.
    expect(again.state.attempts.g?.count).toBe(1);
    // An event the provider no longer has is forgotten, and no longer read back to.
    const gone = askGone(again.state, 'g');
    expect(gone.attempts.g).toBeUndefined();
    expect(readBackTo(gone)).toBe(gone.after);
  });
});

describe('ids the provider lists', () => {
  const at = (id: number, minutesAgo: number, key = `k${id}`): ObservedDelivery => ({
    id,
    key,
    ok: false,
    at: now - minutesAgo * 60_000,
  });

  it('refuses implausible ids and times, and ids out of newest-first order, across pages', () => {
    const first = screenListing(
      [at(50, 1), at(Number.MAX_SAFE_INTEGER + 2, 1), at(-3, 1), at(49.5, 1), { ...at(48, 0), at: now + 3_600_000 }],
      now,
      undefined,
    );
    expect(first.accepted.map((d) => d.id)).toEqual([50]);
    expect(first.refused.map((r) => r.reason)).toEqual(['implausible', 'implausible', 'implausible', 'implausible']);
    const second = screenListing([at(51, 2), at(47, 2), at(47, 2), at(46, 3)], now, first.lastId);
    expect(second.accepted.map((d) => d.id)).toEqual([47, 46]);
    expect(second.refused).toEqual([
      { id: 51, reason: 'out of order' },
      { id: 47, reason: 'out of order' },
    ]);
  });

  it('refuses an id listed above deliveries sent well after it: 9007199254740986 on top of later sends', () => {
    const poisoned = at(9_007_199_254_740_986, 30);
    const page = [poisoned, at(125, 2), at(124, 3), at(123, 29)];
    const screened = screenListing(page, now, undefined);
    expect(screened.refused).toEqual([{ id: 9_007_199_254_740_986, reason: 'out of order' }]);
    expect(screened.accepted.map((d) => d.id)).toEqual([125, 124, 123]);
    // Sends that overlap may finish out of id order by seconds: not refused.
    const overlapping = [at(130, 2), { ...at(129, 2), at: now - 2 * 60_000 + maxOrderSkewMs - 1_000 }];
    expect(screenListing(overlapping, now, undefined).refused).toEqual([]);
  });

  it('stops reading where it read before, but not at a high id examined last time', () => {
    const state = planRedeliveries([at(9_007_199_254_740_986, 10)], emptyReconcileState, options).state;
    const backTo = readBackTo(state);
    expect(isPastDelivery(at(9_007_199_254_740_986, 10), backTo, state.afterAt)).toBe(false);
    expect(isPastDelivery(at(125, 2), backTo, state.afterAt)).toBe(false);
    expect(isPastDelivery(at(100, 30), backTo, state.afterAt)).toBe(true);
  });

  it('is not blinded by one id of 9007199254740986: later sends are read, and after is reset from them', () => {
    const poisoned = planRedeliveries([at(9_007_199_254_740_986, 10), at(120, 20)], emptyReconcileState, options);
    expect(poisoned.state.after).toBe(9_007_199_254_740_986);
    // The next check: real deliveries sent since, with the provider's real (lower) ids.
    const later = [at(125, 2), at(124, 3)];
    const backTo = readBackTo(poisoned.state);
    expect(later.every((d) => isNewDelivery(d, backTo, poisoned.state.afterAt))).toBe(true);
    const next = planRedeliveries(later, poisoned.state, { ...options, now: now + 1 });
    expect(next.redeliver.map((r) => r.id)).toEqual([125, 124]);
    expect(next.wentBack).toBe(2);
    expect(next.state.after).toBe(125);
    // Older than what was examined, and below every open event: not new.
    expect(isNewDelivery(at(100, 30), readBackTo(next.state), next.state.afterAt)).toBe(false);
  });

  it('reads a state saved before afterAt existed back to the lookback once', () => {
    const old = { after: 9_007_199_254_740_986, attempts: {} };
    const lookbackStart = now - 3 * 86_400_000;
    expect(isNewDelivery(at(130, 5), readBackTo(old), lookbackStart)).toBe(true);
    expect(isNewDelivery(at(130, 5), readBackTo(old), undefined)).toBe(false);
  });

  it(`keeps at most ${maxOpenEvents} events in the state, forgetting given-up ones first, then the oldest`, () => {
    const attempts: Record<string, { count: number; lastId: number; at: number }> = {};
    for (let i = 0; i < maxOpenEvents; i += 1) attempts[`open${i}`] = { count: 1, lastId: 1_000 + i, at: now - i };
    attempts.given = { count: 2, lastId: Number.MAX_SAFE_INTEGER, at: now };
    const plan = planRedeliveries(
      [at(5_000, 1, 'fresh')],
      { after: 4_000, afterAt: now - 3_600_000, attempts },
      options,
    );
    expect(plan.forgotten).toBe(2);
    expect(Object.keys(plan.state.attempts)).toHaveLength(maxOpenEvents);
    expect(plan.state.attempts).not.toHaveProperty('given');
    expect(plan.state.attempts).not.toHaveProperty(`open${maxOpenEvents - 1}`);
    expect(plan.state.attempts).toHaveProperty('fresh');
    expect(JSON.stringify(plan.state).length).toBeLessThan(512 * 1024);
  });
});
