// The reconcilers: one check of one provider hook, started by that hook's Temporal Schedule
// (src/worker/reconcile-schedules.ts). Providers do not resend a delivery that failed (GitHub
// never does; GitLab disables a hook that keeps failing), so a check reads what the provider
// reports, decides what to ask for again (src/core/reconcile.ts) and asks; the deliveries come
// back signed through the normal intake, whose dedup keeps each event to one job.
//
// Rate limits are waited out here, with durable timers, not by failing activities. The state
// (the newest delivery examined and the asks per event) is saved in the schedule for the next
// check, so each check reads only what is new.
import { proxyActivities, sleep } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import type { ReconcileReport } from '../activities/reconcile.js';
import {
  askGone,
  askRefused,
  emptyReconcileState,
  isGitLabSuccess,
  planRedeliveries,
  readBackTo,
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
 * A check reads at most this many pages (100 deliveries each: 100,000 deliveries since the last
 * check). Far more than a hook sends in one interval; a check that still runs out reports it.
 */
const maxPages = 1_000;
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

/** Events none of whose sends seen in this check succeeded. */
function stillFailing(observed: ObservedDelivery[]): number {
  const ok = new Set(observed.filter((d) => d.ok).map((d) => d.key));
  return new Set(observed.filter((d) => !ok.has(d.key)).map((d) => d.key)).size;
}

export async function reconcileGitHubHook(input: ReconcileInput): Promise<ReconcileReport> {
  const previous = input.state ?? emptyReconcileState;
  const oldest = previous.after === 0 ? Date.now() - input.lookbackMs : 0;
  const backTo = readBackTo(previous);
  const waits = { count: 0 };
  const budget = { pages: input.maxPages ?? maxPages };

  /** Reads pages from `from` down to `downTo`; `next` is set when the budget ran out first. */
  const scan = async (from: string | undefined, downTo: number) => {
    const found: ObservedDelivery[] = [];
    let cursor = from;
    while (budget.pages > 0) {
      budget.pages -= 1;
      const at = cursor;
      const answer = await unlimited(
        () =>
          api.listGitHubDeliveries({
            hook: input.hook,
            ...(at === undefined ? {} : { cursor: at }),
            ...(input.perPage === undefined ? {} : { perPage: input.perPage }),
          }),
        waits,
      );
      const fresh = answer.deliveries.filter((d) => d.id > downTo && Date.parse(d.deliveredAt) >= oldest);
      found.push(
        ...fresh.map((d) => ({
          id: d.id,
          key: d.guid,
          ok: d.statusCode >= 200 && d.statusCode < 300,
          at: Date.parse(d.deliveredAt),
        })),
      );
      await pauseIf(answer.pauseUntil, waits);
      if (fresh.length < answer.deliveries.length || answer.next === undefined) return { found };
      cursor = answer.next;
    }
    return { found, next: cursor };
  };

  // The newest first, down to where the last check got. A check that runs out of pages before
  // (more deliveries since the last check than its budget holds) says so: what it did not read
  // is not examined, and `truncated` reports it.
  const top = await scan(undefined, backTo);
  const observed = top.found;
  const truncated = top.next !== undefined;
  const succeeded = [...new Set(observed.filter((d) => d.ok).map((d) => d.key))];
  const seen =
    succeeded.length === 0
      ? null
      : await local.deliveriesSeen({ provider: 'github', hook: input.hook, keys: succeeded });
  const unseen = new Set(seen === null ? [] : succeeded.filter((key) => !seen.includes(key)));
  const { plan, refused } = await askAgain(input, previous, observed, unseen, async (ask) => {
    const answer = await unlimited(
      () => api.redeliverGitHubDelivery({ hook: input.hook, deliveryId: ask.id, guid: ask.key, reason: ask.reason }),
      waits,
    );
    await pauseIf(answer.pauseUntil, waits);
    return answer.gone === true ? 'gone' : answer.refused === true ? 'refused' : 'asked';
  });
  const report: ReconcileReport = {
    provider: 'github',
    hook: input.hook,
    examined: observed.length,
    failed: stillFailing(observed),
    unseen: unseen.size,
    requested: plan.redeliver.length - refused,
    refused,
    abandoned: plan.abandoned.length,
    rateLimitWaits: waits.count,
    truncated,
  };
  await local.reportReconcile(report);
  return report;
}

export async function watchGitLabHook(input: ReconcileInput): Promise<ReconcileReport> {
  const previous = input.state ?? emptyReconcileState;
  const waits = { count: 0 };
  const health = await api.readGitLabHook({ hook: input.hook });
  const observed: ObservedDelivery[] = [];
  if (input.resend !== false) {
    const oldest = previous.after === 0 ? Date.now() - input.lookbackMs : 0;
    const backTo = readBackTo(previous);
    let page: number | undefined = 1;
    for (let read = 0; page !== undefined && read < (input.maxPages ?? maxPages); read += 1) {
      const current: number = page;
      const answer = await unlimited(
        () =>
          api.listGitLabEvents({
            hook: input.hook,
            page: current,
            ...(input.perPage === undefined ? {} : { perPage: input.perPage }),
          }),
        waits,
      );
      const fresh = answer.events.filter((e) => e.id > backTo && Date.parse(e.createdAt) >= oldest);
      observed.push(
        ...fresh.map((e) => ({
          id: e.id,
          key: e.eventKey ?? `event-${e.id}`,
          ok: isGitLabSuccess(e.responseStatus),
          at: Date.parse(e.createdAt),
        })),
      );
      page = fresh.length < answer.events.length ? undefined : answer.nextPage;
    }
  }
  const { plan, refused } = await askAgain(input, previous, observed, new Set(), async (ask) => {
    const answer = await unlimited(
      () => api.resendGitLabEvent({ hook: input.hook, eventId: ask.id, key: ask.key, reason: ask.reason }),
      waits,
    );
    return answer.refused === true ? 'refused' : 'asked';
  });
  const report: ReconcileReport = {
    provider: 'gitlab',
    hook: input.hook,
    examined: observed.length,
    failed: stillFailing(observed),
    unseen: 0,
    requested: plan.redeliver.length - refused,
    refused,
    abandoned: plan.abandoned.length,
    rateLimitWaits: waits.count,
    alertStatus: health.alertStatus,
  };
  await local.reportReconcile(report);
  return report;
}
