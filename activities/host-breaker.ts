// A circuit breaker per receiver host, for completion callbacks (activities/callback.ts). One per
// delivering worker process: a receiver that drops packets would otherwise cost a slot for
// callbacks.timeout on every attempt of every callback to it.
//
// Closed: attempts go through; `failures` consecutive failed attempts to a host open its circuit.
// Open: attempts fail at once, without a connection, and say when to try again (the circuit's
// remaining cool-down), so Temporal keeps the callback and retries it then. Half-open, once the
// cool-down has passed: one attempt goes through as a trial while the others still fail at once;
// its success closes the circuit, its failure opens it for another cool-down.

export interface BreakerSettings {
  /** Consecutive failed attempts that open a host's circuit. */
  failures: number;
  coolDownMs: number;
}

/** What an attempt may do: go (then report its outcome), or not before `retryInMs`. */
export type BreakerTicket =
  { go: true; succeeded(): void; failed(): void } | { go: false; retryInMs: number; state: 'open' | 'half-open' };

interface HostState {
  failures: number;
  /** Set while the circuit is open or half-open: when it opened. */
  openedAt?: number;
  /** Half-open: the one trial attempt is in flight. */
  trial: boolean;
}

export class HostBreaker {
  private readonly hosts = new Map<string, HostState>();

  constructor(
    private readonly settings: BreakerSettings,
    private readonly now: () => number = Date.now,
  ) {}

  /** Asks to make an attempt to `host` (host:port). */
  enter(host: string): BreakerTicket {
    const state = this.hosts.get(host) ?? { failures: 0, trial: false };
    this.hosts.set(host, state);
    if (state.openedAt !== undefined) {
      const waited = this.now() - state.openedAt;
      if (waited < this.settings.coolDownMs)
        return { go: false, retryInMs: this.settings.coolDownMs - waited, state: 'open' };
      if (state.trial) return { go: false, retryInMs: this.settings.coolDownMs, state: 'half-open' };
      state.trial = true;
    }
    const trial = state.trial;
    let reported = false;
    const report = (ok: boolean) => {
      if (reported) return;
      reported = true;
      this.record(host, state, ok, trial);
    };
    return { go: true, succeeded: () => report(true), failed: () => report(false) };
  }

  /** The hosts whose circuit is open or half-open now (for metrics and tests). */
  openHosts(): string[] {
    return [...this.hosts].filter(([, state]) => state.openedAt !== undefined).map(([host]) => host);
  }

  private record(host: string, state: HostState, ok: boolean, trial: boolean): void {
    if (trial) state.trial = false;
    if (ok) {
      // The host answers: closed again, and forgotten, so the map holds only troubled hosts.
      if (this.hosts.get(host) === state) this.hosts.delete(host);
      return;
    }
    state.failures += 1;
    // A failed trial, or the threshold reached while closed, opens (again) for a full cool-down.
    // Failures of attempts that were already in flight when it opened change nothing.
    if (trial || (state.openedAt === undefined && state.failures >= this.settings.failures))
      state.openedAt = this.now();
  }
}
