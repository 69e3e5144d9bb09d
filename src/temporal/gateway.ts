// One process's way to call Temporal: every call runs under a deadline (a gRPC deadline, so an
// outage answers quickly instead of hanging on the SDK's own ~20 s of UNAVAILABLE retries) and,
// when given a signal, is cancelled with it; a call Temporal cannot answer throws
// TemporalUnavailable. The bridge and the worker each make one from their one client.
import type { Client } from '@temporalio/client';
import { asTemporalUnavailable, isTemporalUnavailable } from './unavailable.js';

/** The budget of one call. */
export interface CallBudget {
  /** When the call must have ended (epoch ms), at the latest: a budget shared by several calls. */
  deadline?: number;
  /** The longest this call may take from now; the gateway's request timeout when not given. */
  timeoutMs?: number;
  /** Cancels the call: the client went away, the last follower left. */
  signal?: AbortSignal;
}

export interface TemporalGateway {
  readonly client: Client;
  readonly namespace: string;
  /** How long one call may take unless its budget says otherwise (temporal.requestTimeout). */
  readonly requestTimeoutMs: number;
  /** Runs fn under the budget; an outage, a passed deadline or a cancelled call throws TemporalUnavailable. */
  call<T>(fn: (client: Client) => Promise<T>, budget?: CallBudget): Promise<T>;
}

export function createTemporalGateway(
  client: Client,
  options: { namespace: string; requestTimeoutMs: number },
): TemporalGateway {
  const { requestTimeoutMs } = options;
  return {
    client,
    namespace: options.namespace,
    requestTimeoutMs,
    async call(fn, budget = {}) {
      const { signal } = budget;
      try {
        signal?.throwIfAborted();
        return await client.withDeadline(callDeadline(Date.now(), requestTimeoutMs, budget), () =>
          signal === undefined ? fn(client) : withCallSignal(client, signal, () => fn(client)),
        );
      } catch (error) {
        if (isTemporalUnavailable(error) || signal?.aborted === true) throw asTemporalUnavailable(error);
        throw error;
      }
    },
  };
}

/** The gRPC deadline of a call started `now`: its own timeout, never past the shared deadline. */
export function callDeadline(now: number, requestTimeoutMs: number, budget: CallBudget): number {
  return Math.min(budget.deadline ?? Number.POSITIVE_INFINITY, now + (budget.timeoutMs ?? requestTimeoutMs));
}

/**
 * Runs one call that `signal` cancels. The SDK adds a listener to the signal it is given for every
 * call and never removes it, so a long-lived signal (a shared poll, a stream's watch) would keep
 * every call it ever made: each call gets a signal of its own, unlinked afterwards.
 */
async function withCallSignal<T>(client: Client, signal: AbortSignal, fn: () => Promise<T>): Promise<T> {
  const call = new AbortController();
  const abort = () => call.abort(signal.reason);
  signal.addEventListener('abort', abort, { once: true });
  try {
    return await client.withAbortSignal(call.signal, fn);
  } finally {
    signal.removeEventListener('abort', abort);
  }
}
