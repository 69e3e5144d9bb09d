// What the reconciler decides, apart from any API: given the deliveries a provider reports for one
// hook since the last check, which to ask for again. Pure, so the workflows can call it and unit
// tests can try every case.
//
// - Deliveries are grouped by the event they carry (GitHub's guid, GitLab's event UUID): every
//   send of one event shares it, redeliveries included.
// - An event none of whose sends succeeded is asked for again (its newest send), once per send:
//   a send already asked for is not asked for twice, and after `maxAttempts` asks the event is
//   given up and reported, so a receiver that refuses it for good is not hammered.
// - An event that succeeded at the provider but that the delivery log has never seen (something
//   else answered for Gatehouse) is asked for again as well; the intake's dedup makes that safe.
// - The state remembers the newest delivery examined and the events still open (asked for, no
//   success seen yet), so a check reads what is new plus back to the oldest open event's send: an
//   ask the provider accepted but has not carried out yet, or refused for now, is looked at again.
//   An event is closed when a send of it succeeds (and the log has seen it).

/** What a reconciler check is started with (its schedule's action carries it). */
export interface ReconcileInput {
  hook: string;
  scheduleId: string;
  /** How far back the first check looks (GitHub keeps 3 days, GitLab 7). */
  lookbackMs: number;
  maxAttempts: number;
  /** GitLab: resend failed events (otherwise only watch the hook's health). */
  resend?: boolean;
  state?: ReconcileState;
  /** Page size and page budget of one check (defaults: 100 and 1,000); smaller only in tests. */
  perPage?: number;
  maxPages?: number;
}

export interface ObservedDelivery {
  /** The provider's id of this send (increasing). */
  id: number;
  /** The event it carries: the same for every send of it. */
  key: string;
  ok: boolean;
  /** When it was sent (epoch ms). */
  at: number;
}

export interface ReconcileState {
  /** The newest delivery id examined. */
  after: number;
  /** Open events: how often each was asked for, the send last asked for, when (epoch ms). */
  attempts: Record<string, { count: number; lastId: number; at: number }>;
}

export interface Redelivery {
  id: number;
  key: string;
  reason: 'failed' | 'unseen';
}

export interface ReconcilePlan {
  redeliver: Redelivery[];
  /** Events given up in this check (asked for maxAttempts times, still failing). */
  abandoned: string[];
  /** Events that failed and already have an ask in flight for their newest send. */
  waiting: string[];
  state: ReconcileState;
}

export const emptyReconcileState: ReconcileState = { after: 0, attempts: {} };

/** Given up: never asked for again while it is remembered. */
const abandonedMark = Number.MAX_SAFE_INTEGER;

/**
 * Where a check reads back to: deliveries with a greater id. The newest examined, or just before
 * the send last asked for of the oldest open event.
 */
export function readBackTo(state: ReconcileState): number {
  let to = state.after;
  for (const entry of Object.values(state.attempts)) {
    if (entry.lastId !== abandonedMark) to = Math.min(to, entry.lastId - 1);
  }
  return to;
}

/** The provider no longer has the event: nothing more can be asked for it, so it is forgotten. */
export function askGone(state: ReconcileState, key: string): ReconcileState {
  const { [key]: _gone, ...attempts } = state.attempts;
  return { ...state, attempts };
}

/**
 * The provider refused an ask (it will not resend now, e.g. while the hook is disabled): the same
 * send may be asked for again, and the refusal does not count against maxAttempts. The event is
 * forgotten only when the provider no longer keeps it.
 */
export function askRefused(state: ReconcileState, key: string): ReconcileState {
  const entry = state.attempts[key];
  if (entry === undefined) return state;
  const undone = { ...entry, lastId: entry.lastId - 1, count: Math.max(0, entry.count - 1) };
  return { ...state, attempts: { ...state.attempts, [key]: undone } };
}

export function planRedeliveries(
  observed: readonly ObservedDelivery[],
  previous: ReconcileState,
  options: {
    maxAttempts: number;
    unseen: ReadonlySet<string>;
    now: number;
    keepMs: number;
    /** The most asks in one check; the others stay open for the next. */
    maxAsks?: number;
  },
): ReconcilePlan {
  const byKey = new Map<string, ObservedDelivery[]>();
  for (const delivery of observed) {
    const sends = byKey.get(delivery.key) ?? [];
    sends.push(delivery);
    byKey.set(delivery.key, sends);
  }
  const attempts: ReconcileState['attempts'] = {};
  for (const [key, entry] of Object.entries(previous.attempts)) {
    if (options.now - entry.at <= options.keepMs) attempts[key] = { ...entry };
  }
  const redeliver: Redelivery[] = [];
  const abandoned: string[] = [];
  const waiting: string[] = [];
  for (const [key, sends] of byKey) {
    const newest = sends.reduce((a, b) => (b.id > a.id ? b : a));
    const succeeded = sends.some((send) => send.ok);
    const reason = !succeeded ? 'failed' : options.unseen.has(key) ? 'unseen' : undefined;
    if (reason === undefined) {
      delete attempts[key];
      continue;
    }
    const tried = attempts[key];
    if (tried !== undefined && tried.lastId >= newest.id && tried.lastId !== abandonedMark) {
      waiting.push(key);
      continue;
    }
    if (tried !== undefined && tried.count >= options.maxAttempts) {
      if (tried.lastId !== abandonedMark) abandoned.push(key);
      attempts[key] = { ...tried, lastId: abandonedMark };
      continue;
    }
    if (redeliver.length >= (options.maxAsks ?? Number.POSITIVE_INFINITY)) {
      // Left for the next check, which reads back to it: still open, not yet asked for.
      attempts[key] = tried ?? { count: 0, lastId: newest.id - 1, at: options.now };
      continue;
    }
    redeliver.push({ id: newest.id, key, reason });
    attempts[key] = { count: (tried?.count ?? 0) + 1, lastId: newest.id, at: options.now };
  }
  const after = observed.reduce((max, delivery) => Math.max(max, delivery.id), previous.after);
  return { redeliver, abandoned, waiting, state: { after, attempts } };
}

/** GitLab's response_status is text: only a 2xx code is a delivery that arrived. */
export function isGitLabSuccess(responseStatus: string): boolean {
  return /^2[0-9]{2}$/.test(responseStatus);
}
