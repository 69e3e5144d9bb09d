// The reconciler: one check of one provider hook, started by that hook's Temporal Schedule
// (src/worker/reconcile-schedules.ts), for any provider with a reconciler (src/providers/
// reconciler.ts). Providers do not resend a delivery that failed (GitHub never does; GitLab
// disables a hook that keeps failing), so a check reads what the provider reports, decides what
// to ask for again (src/core/reconcile.ts) and asks; the deliveries come back signed through the
// normal intake, whose dedup keeps each event to one job.
//
// Rate limits are waited out here, with durable timers, not by failing activities. The state
// (the newest delivery examined and the asks per event) is saved in the schedule for the next
// check, so each check reads only what is new.
//
// Every payload stays far under Temporal's 2 MB: a check examines at most maxDeliveries (10,000;
// the old budget of 100,000 would have put about 4 MB of guids into one question to the delivery
// log), asks the log about them maxSeenKeys at a time, and the state it saves is bounded
// (src/core/reconcile.ts). Ids the provider lists are screened first (src/core/reconcile.ts):
// what is refused is counted in the report and logged here.
import { log, proxyActivities, sleep } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import type { ReconcileReport } from '../activities/reconcile.js';
import {
  askGone,
  askRefused,
  emptyReconcileState,
  isNewDelivery,
  isPastDelivery,
  planRedeliveries,
  readBackTo,
  screenListing,
  type RefusedDelivery,
  type ObservedDelivery,
  type ReconcileInput,
  type ReconcileState,
  type Redelivery,
} from '../src/core/reconcile.js';
import { activityPolicies } from '../src/core/retry-policies.js';

const api = proxyActivities<Activities>(activityPolicies.hookApi);
const local = proxyActivities<Activities>(activityPolicies.quick);

/** How long the reconciler remembers its asks per event: as long as providers keep deliveries. */
const keepMs = 7 * 86_400_000;
/**
 * A check examines at most this many deliveries since the last one (100 pages of 100), and reads
 * at most maxPages pages. Far more than a hook sends in one interval; a check that still runs out
 * reports it (shorten the hook's interval). Each page answer is about 10 KB in history.
 */
const maxDeliveries = 10_000;
const maxPages = 100;
/** Keys per question to the delivery log: about 40 KB of guids. */
const maxSeenKeys = 1_000;
/** A check asks for at most this many redeliveries; the rest stay open for the next check. */
const maxAsks = 200;
/** The longest single wait for a rate limit (GitHub's window is an hour). */
const maxWaitMs = 65 * 60_000;

type Limited = { rateLimited: true; until: number };
const isLimited = (answer: object): answer is Limited => 'rateLimited' in answer;

/** Calls `call` until it is not rate-limited, sleeping until each limit's end. */
async function unlimited<T extends object>(call: () => Promise<T | Limited>, waits: { count: number }): Promise<T> {
  for (;;) {
    const answer = await call();
    if (!isLimited(answer)) return answer;
    waits.count += 1;
    await sleep(Math.min(maxWaitMs, Math.max(1_000, answer.until - Date.now() + 1_000)));
  }
}

async function pauseIf(until: number | undefined, waits: { count: number }): Promise<void> {
  if (until === undefined) return;
  waits.count += 1;
  await sleep(Math.min(maxWaitMs, Math.max(1_000, until - Date.now() + 1_000)));
}

/**
 * Decides what to ask for again, asks, and saves the state for the next check: a refused ask stays
 * open without counting against maxAttempts; an event the provider no longer has is forgotten.
 */
async function askAgain(
  input: ReconcileInput,
  previous: ReconcileState,
  observed: ObservedDelivery[],
  unseen: ReadonlySet<string>,
  ask: (redelivery: Redelivery) => Promise<'asked' | 'refused' | 'gone'>,
): Promise<{ plan: ReturnType<typeof planRedeliveries>; refused: number }> {
  const plan = planRedeliveries(observed, previous, {
    maxAttempts: input.maxAttempts,
    unseen,
    now: Date.now(),
    keepMs,
    maxAsks,
  });
  let state = plan.state;
  let refused = 0;
  for (const redelivery of plan.redeliver) {
    const answer = await ask(redelivery);
    if (answer === 'asked') continue;
    refused += 1;
    state = answer === 'refused' ? askRefused(state, redelivery.key) : askGone(state, redelivery.key);
  }
  await local.saveReconcileState({ scheduleId: input.scheduleId, state });
  return { plan, refused };
}

/** Screens each page, and tells the log (and the report) what was refused. */
function screener(input: ReconcileInput) {
  let lastId: number | undefined;
  const refused: RefusedDelivery[] = [];
  return {
    refused,
    page(page: ObservedDelivery[]): ObservedDelivery[] {
      const screened = screenListing(page, Date.now(), lastId);
      lastId = screened.lastId;
      if (screened.refused.length > 0) {
        refused.push(...screened.refused);
        log.warn('the provider listed deliveries the reconciler refuses', {
          provider: input.provider,
          hook: input.hook,
          refused: screened.refused.slice(0, 5),
          count: screened.refused.length,
        });
      }
      return screened.accepted;
    },
  };
}

/** When the newest delivery examined was sent; for a state saved before that was kept, the lookback's start. */
function sentAfter(input: ReconcileInput, previous: ReconcileState): number | undefined {
  if (previous.afterAt !== undefined) return previous.afterAt;
  return previous.after > 0 ? Date.now() - input.lookbackMs : undefined;
}

function noteWentBack(input: ReconcileInput, previous: ReconcileState, wentBack: number) {
  if (wentBack === 0) return;
  log.warn('deliveries sent after the newest one examined have lower ids: the reconciler reads on from them', {
    provider: input.provider,
    hook: input.hook,
    after: previous.after,
    count: wentBack,
  });
}

/** Events none of whose sends seen in this check succeeded. */
function stillFailing(observed: ObservedDelivery[]): number {
  const ok = new Set(observed.filter((d) => d.ok).map((d) => d.key));
  return new Set(observed.filter((d) => !ok.has(d.key)).map((d) => d.key)).size;
}

/** Of the events that succeeded at the provider, those the shared delivery log never saw (none without one). */
async function unseenOf(input: ReconcileInput, observed: ObservedDelivery[]): Promise<Set<string>> {
  if (!input.comparesWithLog) return new Set();
  const succeeded = [...new Set(observed.filter((d) => d.ok).map((d) => d.key))];
  let seen: Set<string> | null = null;
  for (let from = 0; from < succeeded.length; from += maxSeenKeys) {
    const keys = succeeded.slice(from, from + maxSeenKeys);
    const answer = await local.deliveriesSeen({ provider: input.provider, hook: input.hook, keys });
    if (answer === null) break;
    seen ??= new Set();
    for (const key of answer) seen.add(key);
  }
  return new Set(seen === null ? [] : succeeded.filter((key) => !seen.has(key)));
}

export async function reconcileHook(input: ReconcileInput): Promise<ReconcileReport> {
  const { provider, hook } = input;
  const previous = input.state ?? emptyReconcileState;
  const health = input.watchesHealth ? await api.readHookHealth({ provider, hook }) : undefined;
  const oldest = previous.after === 0 ? Date.now() - input.lookbackMs : 0;
  const backTo = readBackTo(previous);
  const afterAt = sentAfter(input, previous);
  const waits = { count: 0 };
  const budget = { pages: input.maxPages ?? maxPages };
  const screen = screener(input);

  /** Reads pages, newest first, down to where the last check got; `truncated` when the budget ran out first. */
  const scan = async () => {
    const found: ObservedDelivery[] = [];
    let cursor: string | undefined;
    while (budget.pages > 0) {
      budget.pages -= 1;
      const at = cursor;
      const answer = await unlimited(
        () =>
          api.listHookDeliveries({
            provider,
            hook,
            ...(at === undefined ? {} : { cursor: at }),
            ...(input.perPage === undefined ? {} : { perPage: input.perPage }),
          }),
        waits,
      );
      const accepted = screen.page(answer.deliveries);
      const fresh = accepted.filter((d) => isNewDelivery(d, backTo, afterAt) && d.at >= oldest);
      const room = maxDeliveries - found.length;
      found.push(...fresh.slice(0, room));
      await pauseIf(answer.pauseUntil, waits);
      if (fresh.length > room) return { found, truncated: true };
      const readBefore = accepted.some((d) => isPastDelivery(d, backTo, afterAt) || d.at < oldest);
      if (readBefore || answer.next === undefined) return { found, truncated: false };
      if (found.length === maxDeliveries) return { found, truncated: true };
      cursor = answer.next;
    }
    return { found, truncated: true };
  };

  // A check that runs out of pages before it reads back to where the last one got (more
  // deliveries since than its budget holds) says so: what it did not read is not examined.
  const { found: observed, truncated } = input.resend === false ? { found: [], truncated: false } : await scan();
  const unseen = await unseenOf(input, observed);
  const { plan, refused } = await askAgain(input, previous, observed, unseen, async (ask) => {
    const answer = await unlimited(
      () => api.redeliverHookDelivery({ provider, hook, id: ask.id, key: ask.key, reason: ask.reason }),
      waits,
    );
    await pauseIf(answer.pauseUntil, waits);
    return answer.answer;
  });
  const report: ReconcileReport = {
    provider,
    hook,
    examined: observed.length,
    failed: stillFailing(observed),
    unseen: unseen.size,
    requested: plan.redeliver.length - refused,
    refused,
    abandoned: plan.abandoned.length,
    rateLimitWaits: waits.count,
    ...(health === undefined ? {} : { alertStatus: health.alertStatus }),
    truncated,
    refusedIds: screen.refused.length,
    idsWentBack: plan.wentBack,
    forgotten: plan.forgotten,
  };
  noteWentBack(input, previous, plan.wentBack);
  await local.reportReconcile(report);
  return report;
}
