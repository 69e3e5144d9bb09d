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

/** What a wait needs of the client's connection (the raw response): to hear it close, and to stop listening. */
export interface ClientConnection {
  /** True once the connection has closed: a 'close' that came before anyone listened. */
  readonly destroyed: boolean;
  once(event: 'close', listener: () => void): unknown;
  off(event: 'close', listener: () => void): unknown;
}

/**
 * Reads a job; with `waitMs`, waits until it closes (a run that continues as new has not closed
 * it), the wait ends or the client goes away (`connection` closes), then reads it again.
 * Visibility is checked before waiting, so a hidden job answers 404 at once.
 *
 * Whatever Temporal does (down, or hanging: the connection open and nothing answered), the answer
 * comes within `waitMs` + one request timeout, from timers of our own rather than from any
 * Temporal call: the wait's own timer, and the reads' deadline. When the deadline passes, or a read
 * fails for want of Temporal, the calls still running are cancelled, and the answer is the job as
 * last described if it was running then (200, as a wait that ended without the job closing), or
 * 503 GATEHOUSE_TEMPORAL_UNAVAILABLE when nothing usable could be read (not even the first
 * describe, or a closed job's outcome).
 * No timer here is an AbortSignal.timeout: combined with AbortSignal.any, Node 20 lets a garbage
 * collection drop it, and the wait it was to end never ends (nodejs/node#57736).
 */
export async function waitForJob(
  temporal: BridgeTemporal,
  jobId: string,
  caller: Caller,
  rules: AccessRules,
  waitMs: number,
  connection: ClientConnection,
): Promise<JobView> {
  const began = Date.now();
  const waitEnd = began + waitMs;
  const deadline = waitEnd + temporal.requestTimeoutMs;
  /** The job as last described while running: what a read that cannot finish answers. */
  let lastRunning: JobView | undefined;

  /**
   * Describes the job, and a closed job's outcome, before the deadline. Waiters tolerate a
   * describe begun a moment before they asked (the wait covers it), so they share one: a herd of
   * waiters on one job costs Temporal one describe, and each checks access. Its calls are
   * cancelled when the client goes away, and whatever still runs when it ends.
   */
  const read = async (notBefore: number): Promise<JobView> => {
    const calls = new AbortController();
    const cancel = () => calls.abort();
    connection.once('close', cancel);
    const budget = { deadline, signal: calls.signal };
    try {
      const { view } = visibleJob(await temporal.describes.describe(jobId, budget, notBefore), caller, rules);
      // A job seen closed is never answered as running; without its outcome the answer is a 503.
      lastRunning = view.status === 'RUNNING' ? view : undefined;
      if (lastRunning !== undefined) return view;
      return await beforeDeadline(withOutcome(temporal, view, budget), deadline);
    } finally {
      connection.off('close', cancel);
      cancel();
    }
  };

  try {
    const first = await read(0);
    if (first.status !== 'RUNNING' || waitMs <= 0) return first;
    // Nobody is waiting for the answer any more: do not ask Temporal for it.
    if ((await untilClosed(temporal, first, waitEnd, connection)) === 'client gone') return first;
    return await read(Date.now());
  } catch (error) {
    if (!isTemporalUnavailable(error) || lastRunning === undefined) throw error;
    return lastRunning;
  }
}

/**
 * `call`, or TemporalUnavailable once `deadline` passes: a closed job's outcome is one more call,
 * which a hanging Temporal would otherwise hold until the gRPC deadline, if that is ever heard.
 */
function beforeDeadline<T>(call: Promise<T>, deadline: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new TemporalUnavailable(`no answer from Temporal by the wait's deadline`)),
      deadline - Date.now(),
    );
  });
  return Promise.race([call, expired]).finally(() => clearTimeout(timer));
}

/**
 * Waits until the job closes for good, `waitEnd` passes or the client goes away, on the poll every
 * follower of the run shares. A timer of ours ends the wait at `waitEnd`; the wait does not depend
 * on the poll's cancellation being heard. While Temporal cannot answer, the poll retries and the
 * waiter waits out its time, then reads (a client looping on ?wait must not spin). A waiting
 * request holds its connection, this promise, one timer, a listener on the connection and its
 * place in the poll, and no AbortController (each costs about 1 KB with its listener): thousands
 * of idle waiters cost little.
 */
function untilClosed(
  temporal: BridgeTemporal,
  view: JobView,
  waitEnd: number,
  connection: ClientConnection,
): Promise<'ended' | 'client gone'> {
  if (connection.destroyed) return Promise.resolve('client gone');
  return new Promise((resolve) => {
    const finish = (how: 'ended' | 'client gone') => {
      clearTimeout(timer);
      connection.off('close', left);
      stop();
      resolve(how);
    };
    const left = () => finish('client gone');
    // Closing with a failure, or a run that can no longer be followed, ends the wait like closing.
    const stop = temporal.runs.follow(view, 'close', (news) => {
      if (news.kind !== 'continued') finish('ended');
    });
    const timer = setTimeout(finish, waitEnd - Date.now(), 'ended');
    connection.once('close', left);
  });
}
