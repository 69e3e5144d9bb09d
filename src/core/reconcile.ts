// What the reconciler decides, apart from any API: given the deliveries a provider reports for one
// hook since the last check, which to ask for again. Pure, so the workflows can call it and unit
// tests can try every case.
// Why it works as it does: docs/webhooks.md, "What the reconciler decides".

/** What a reconciler check is started with (its schedule's action carries it). */
export interface ReconcileInput {
  provider: string;
  hook: string;
  scheduleId: string;
  /** How far back the first check looks (GitHub keeps 3 days, GitLab 7). */
  lookbackMs: number;
  maxAttempts: number;
  /** The provider's capability (src/providers/reconciler.ts): ask the delivery log about successes. */
  comparesWithLog: boolean;
  /** The provider's capability: read (and report) the hook's health first. */
  watchesHealth: boolean;
  /** Ask for failed deliveries again (false: only watch the hook's health). */
  resend?: boolean;
  state?: ReconcileState;
  /** Page size and page budget of one check (defaults: 100 and 100); smaller only in tests. */
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
  /**
   * When the newest delivery examined was sent (epoch ms): a delivery sent later is read whatever
   * its id. Absent in a state saved before it existed.
   */
  afterAt?: number;
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
  /** Deliveries sent after the newest one examined but with an id at or below it: `after` was reset. */
  wentBack: number;
  /** Open or given-up events dropped from the state to keep it within maxOpenEvents. */
  forgotten: number;
  /** Events given up in this check (asked for maxAttempts times, still failing). */
  abandoned: string[];
  /** Events that failed and already have an ask in flight for their newest send. */
  waiting: string[];
  state: ReconcileState;
}

export const emptyReconcileState: ReconcileState = { after: 0, attempts: {} };

/** Given up: never asked for again while it is remembered. */
const abandonedMark = Number.MAX_SAFE_INTEGER;
/** The most events the state remembers: about 100 bytes each, far under Temporal's 2 MB payload. */
export const maxOpenEvents = 2_000;
/** How far ahead of our clock a provider's delivery time may be before it is implausible. */
const maxClockSkewMs = 5 * 60_000;
/**
 * How much later than a delivery one listed below it (a lower id) may have been sent: sends that
 * overlap can finish out of id order, by seconds, but not by this much.
 */
export const maxOrderSkewMs = 60_000;

export interface RefusedDelivery {
  id: number;
  reason: 'implausible' | 'out of order';
}

/**
 * Screens one page of a provider's listing (newest first): implausible deliveries (an id that is
 * not a positive safe integer, a time that is not one or is in the future) and those out of order
 * (an id not below the one listed before it, `lastId` carrying the last accepted id across pages;
 * or listed above a delivery on the page sent more than maxOrderSkewMs after it) are refused.
 * What is accepted keeps its order.
 */
export function screenListing(
  page: readonly ObservedDelivery[],
  now: number,
  lastId: number | undefined,
): { accepted: ObservedDelivery[]; refused: RefusedDelivery[]; lastId: number | undefined } {
  const accepted: ObservedDelivery[] = [];
  const refused: RefusedDelivery[] = [];
  const plausible = (delivery: ObservedDelivery) =>
    Number.isSafeInteger(delivery.id) &&
    delivery.id > 0 &&
    Number.isFinite(delivery.at) &&
    delivery.at <= now + maxClockSkewMs;
  // The latest send listed below each delivery on the page.
  const sentLaterBelow: number[] = [];
  let latest = Number.NEGATIVE_INFINITY;
  for (let i = page.length - 1; i >= 0; i -= 1) {
    sentLaterBelow[i] = latest;
    if (plausible(page[i]!)) latest = Math.max(latest, page[i]!.at);
  }
  let last = lastId;
  for (const [i, delivery] of page.entries()) {
    if (!plausible(delivery)) {
      refused.push({ id: delivery.id, reason: 'implausible' });
    } else if ((last !== undefined && delivery.id >= last) || sentLaterBelow[i]! > delivery.at + maxOrderSkewMs) {
      refused.push({ id: delivery.id, reason: 'out of order' });
    } else {
      accepted.push(delivery);
      last = delivery.id;
    }
  }
  return { accepted, refused, lastId: last };
}

/**
 * Whether a check reads this delivery as new: an id beyond where it reads back to, or a send
 * after the newest one examined. `afterAt` is the state's, or, for a state saved before it was
 * kept, the start of the lookback (read once more, so an `after` poisoned then cannot blind).
 */
export function isNewDelivery(delivery: ObservedDelivery, backTo: number, afterAt: number | undefined): boolean {
  return delivery.id > backTo || (afterAt !== undefined && delivery.at > afterAt);
}

/**
 * Whether a delivery lies where a check has read before: listed (by id) at or below where it reads
 * back to, and sent before the newest one examined. Reading stops there. The newest examined
 * itself is not past: a high id that passed is listed on top, above the sends after it.
 */
export function isPastDelivery(delivery: ObservedDelivery, backTo: number, afterAt: number | undefined): boolean {
  return delivery.id <= backTo && (afterAt === undefined || delivery.at < afterAt);
}

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
  // Sent after the newest delivery examined, yet not above its id: the ids went backwards, so the
  // old `after` (implausibly high, or the provider's ids were reset) is not kept.
  const wentBack = observed.filter(
    (d) => previous.afterAt !== undefined && d.at > previous.afterAt && d.id <= previous.after,
  ).length;
  const after = observed.reduce((max, delivery) => Math.max(max, delivery.id), wentBack > 0 ? 0 : previous.after);
  const afterAt = observed.reduce<number | undefined>(
    (max, delivery) => Math.max(max ?? delivery.at, delivery.at),
    previous.afterAt,
  );
  const forgotten = forgetBeyond(attempts, maxOpenEvents);
  return {
    redeliver,
    abandoned,
    waiting,
    wentBack,
    forgotten,
    state: { after, ...(afterAt === undefined ? {} : { afterAt }), attempts },
  };
}

/** Drops the oldest entries beyond `max`, given-up ones first; answers how many went. */
function forgetBeyond(attempts: ReconcileState['attempts'], max: number): number {
  const keys = Object.keys(attempts);
  if (keys.length <= max) return 0;
  const order = (key: string) => [attempts[key]!.lastId === abandonedMark ? 0 : 1, attempts[key]!.at] as const;
  keys.sort((a, b) => {
    const [x, y] = [order(a), order(b)];
    return x[0] - y[0] || x[1] - y[1];
  });
  const drop = keys.slice(0, keys.length - max);
  for (const key of drop) delete attempts[key];
  return drop.length;
}
