// Waiting out a Temporal that cannot answer, for work nobody waits on synchronously (a shared
// poll, a stream's watch): try again with backoff, 1 s doubling to 15 s, until `signal` aborts.
import { isTemporalUnavailable } from './unavailable.js';

export const unavailableBackoffMs = { first: 1_000, max: 15_000 } as const;

/** Runs fn again while Temporal cannot answer, backing off; other failures, and an abort, are thrown. */
export async function retryWhileUnavailable<T>(signal: AbortSignal, fn: () => Promise<T>): Promise<T> {
  let delay: number = unavailableBackoffMs.first;
  for (;;) {
    try {
      signal.throwIfAborted();
      return await fn();
    } catch (error) {
      if (signal.aborted || !isTemporalUnavailable(error)) throw error;
      await sleep(delay, signal);
      delay = nextBackoff(delay);
    }
  }
}

export function nextBackoff(delay: number): number {
  return Math.min(delay * 2, unavailableBackoffMs.max);
}

/** Waits `ms`, or less if `signal` aborts first. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}
