// Reading one job for a caller: describe it, check the caller may see it (a job they may not see is
// a 404, exactly like one that does not exist), and add the result or failure once it has closed;
// with ?wait, follow it until it closes (src/temporal/run-follower.ts) within a bounded time.
import { mayActOnJob, type AccessRules, type Caller } from '../../core/access.js';
import type { JobView } from '../../core/job-view.js';
import { describeJob, type DescribedJob } from '../../temporal/describe-job.js';
import type { CallBudget } from '../../temporal/gateway.js';
import { withOutcome } from '../../temporal/job-outcome.js';
import { TemporalUnavailable, isTemporalUnavailable } from '../../temporal/unavailable.js';
import { GatehouseError } from '../errors.js';
import type { BridgeTemporal } from '../temporal/temporal-plugin.js';

export function jobNotFound(): GatehouseError {
  return new GatehouseError('GATEHOUSE_JOB_NOT_FOUND', 'There is no job with this id that you may see');
}

/** Describes a job the caller may see, or throws the 404 that hides its existence. */
export async function findJob(
  temporal: BridgeTemporal,
  jobId: string,
  caller: Caller,
  rules: AccessRules,
  budget?: CallBudget,
): Promise<DescribedJob> {
  return visibleJob(await describeJob(temporal, jobId, budget === undefined ? {} : { budget }), caller, rules);
}

function visibleJob(job: DescribedJob | undefined, caller: Caller, rules: AccessRules): DescribedJob {
  if (job?.memo === undefined || !mayActOnJob(caller, job.memo.identity.principal, rules)) throw jobNotFound();
  return job;
}

/**
 * Reads a job; with `waitMs`, waits until it closes (a run that continues as new has not closed
 * it), the wait ends or the client goes away, then reads it again. Visibility is checked before
 * waiting, so a hidden job answers 404 at once.
 *
 * Whatever Temporal does (down, or hanging: the connection open and nothing answered), the answer
 * comes within `waitMs` + one request timeout, from a timer of our own rather than from any
 * Temporal call. When it fires, or when the read after the wait fails for want of Temporal, every
 * call still running is cancelled, and the answer is the job as last described if it was running
 * then (200, as a wait that ended without the job closing), or 503 GATEHOUSE_TEMPORAL_UNAVAILABLE
 * when nothing usable could be read (not even the first describe, or a closed job's outcome).
 * No timer here is an AbortSignal.timeout: combined with AbortSignal.any, Node 20 lets a garbage
 * collection drop it, and the wait it was to end never ends (nodejs/node#57736).
 */
export async function waitForJob(
  temporal: BridgeTemporal,
  jobId: string,
  caller: Caller,
  rules: AccessRules,
  waitMs: number,
  clientGone: AbortSignal,
): Promise<JobView> {
  const began = Date.now();
  const waitEnd = began + waitMs;
  const { signal, abandon } = abandonable(clientGone);
  const budget = { deadline: waitEnd + temporal.requestTimeoutMs, signal };
  /** The job as last described while running: what a read that cannot finish answers. */
  let lastRunning: JobView | undefined;
  // Waiters tolerate a describe begun a moment before they asked (the wait covers it), so they
  // share one: a herd of waiters on one job costs Temporal one describe, and each checks access.
  const find = async (notBefore = 0) =>
    visibleJob(await temporal.describes.describe(jobId, budget, notBefore), caller, rules);

  const read = async (): Promise<JobView> => {
    const first = await find();
    if (first.view.status !== 'RUNNING' || waitMs <= 0) return withOutcome(temporal, first.view, budget);
    lastRunning = first.view;
    await untilClosed(temporal, first.view, waitEnd, signal);
    // Nobody is waiting for the answer any more: do not ask Temporal for it.
    if (signal.aborted) return first.view;
    const { view } = await find(Date.now());
    // A job seen closed is never answered as running; without its outcome the answer is a 503.
    lastRunning = view.status === 'RUNNING' ? view : undefined;
    return withOutcome(temporal, view, budget);
  };

  const reading = read();
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<'expired'>((resolve) => {
    timer = setTimeout(() => resolve('expired'), budget.deadline - Date.now());
  });
  try {
    const answer = await Promise.race([reading, expired]);
    if (answer !== 'expired') return answer;
  } catch (error) {
    if (!isTemporalUnavailable(error) || lastRunning === undefined) throw error;
    return lastRunning;
  } finally {
    clearTimeout(timer);
    // Whatever is still running (a long-poll, a describe Temporal never answered) is cancelled.
    abandon();
    reading.catch(() => undefined);
  }
  if (lastRunning !== undefined) return lastRunning;
  throw new TemporalUnavailable(`no answer from Temporal within ${budget.deadline - began} ms`);
}

/** A signal that aborts when the client goes away or when `abandon()` is called. */
function abandonable(clientGone: AbortSignal): { signal: AbortSignal; abandon: () => void } {
  const controller = new AbortController();
  const abandon = () => {
    clientGone.removeEventListener('abort', abandon);
    controller.abort();
  };
  if (clientGone.aborted) controller.abort();
  else clientGone.addEventListener('abort', abandon, { once: true });
  return { signal: controller.signal, abandon };
}

/**
 * Waits until the job closes for good, `waitEnd` passes or `signal` aborts, on the poll every
 * follower of the run shares. A timer of ours ends the wait at `waitEnd`; the wait does not depend
 * on the poll's cancellation being heard. While Temporal cannot answer, the poll retries and the
 * waiter waits out its time, then reads (a client looping on ?wait must not spin). A waiting
 * request holds one promise, one timer, one listener and its place in the poll: thousands of idle
 * waiters cost little.
 */
function untilClosed(temporal: BridgeTemporal, view: JobView, waitEnd: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  const left = new AbortController();
  return new Promise<void>((resolve) => {
    const finish = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', finish);
      left.abort();
      resolve();
    };
    // Closing with a failure, or a run that can no longer be followed, ends the wait like closing.
    temporal.runs.untilClosed(view, left.signal).then(finish, finish);
    const timer = setTimeout(finish, waitEnd - Date.now());
    signal.addEventListener('abort', finish, { once: true });
  });
}
