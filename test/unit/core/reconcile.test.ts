// What the reconciler asks for again, decided without any API: failed events (their newest send),
// succeeded events the delivery log never saw, never the same send twice, at most maxAttempts asks
// per event (then given up, reported once), and the state that lets the next check read only
// what is new.
import { describe, expect, it } from 'vitest';
import {
  askGone,
  askRefused,
  emptyReconcileState,
  planRedeliveries,
  readBackTo,
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
