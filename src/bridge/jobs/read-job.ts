// Reading one job: describe the workflow, check the caller may see it (a job they may not see is
// a 404, exactly like one that does not exist), and add the result or failure once it has closed.
import { WorkflowFailedError, WorkflowNotFoundError, type Client } from '@temporalio/client';
// @temporalio/proto is CommonJS whose named exports Node's ESM loader cannot detect: default import.
import protos, { type temporal as proto } from '@temporalio/proto';
import { mayActOnJob, type AccessRules, type Caller } from '../../core/access.js';
import type { JobMemo } from '../../core/identity.js';
import { rootFailure, type JobFailure } from '../../core/job-failure.js';
import { contractStatus } from '../../core/job-status.js';
import { sourceKey } from '../../core/search-attributes.js';
import { GatehouseError } from '../errors.js';
import type { TemporalGateway } from '../temporal/temporal-plugin.js';
import { isTemporalUnavailable, isTemporalUnavailableAnswer, temporalUnavailable } from '../temporal/unavailable.js';
import { readMemo } from '../../core/job-memo.js';
import type { JobSummary } from './list-jobs.js';

/** A job summary plus, once it has closed, its outcome. */
export interface JobView extends JobSummary {
  result?: unknown;
  failure?: JobFailure;
}

export interface VisibleJob {
  memo: JobMemo;
  view: JobView;
}

export function jobNotFound(): GatehouseError {
  return new GatehouseError('GATEHOUSE_JOB_NOT_FOUND', 'There is no job with this id that you may see');
}

/**
 * The budget of one read: every Temporal call in it ends by `deadline` (a gRPC deadline), and all
 * of them are cancelled together through `signal` when the read is abandoned.
 */
export interface ReadScope {
  deadline: number;
  signal: AbortSignal;
}

/**
 * Runs one Temporal call that `signal` cancels. The SDK adds a listener to the signal it is given
 * for every call and never removes it, so a long-lived signal (a shared poll, a stream's watch)
 * would keep every call it ever made: each call gets a signal of its own, unlinked afterwards.
 */
export async function cancellable<T>(client: Client, signal: AbortSignal, fn: () => Promise<T>): Promise<T> {
  const call = new AbortController();
  const abort = () => call.abort(signal.reason);
  if (signal.aborted) abort();
  else signal.addEventListener('abort', abort, { once: true });
  try {
    return await client.withAbortSignal(call.signal, fn);
  } finally {
    signal.removeEventListener('abort', abort);
  }
}

/** Runs fn under the scope's deadline (capped at one request timeout) and cancellation. */
export async function scoped<T>(
  temporal: TemporalGateway,
  scope: ReadScope,
  fn: (client: Client) => Promise<T>,
): Promise<T> {
  const { client } = temporal;
  const deadline = Math.min(scope.deadline, Date.now() + temporal.requestTimeoutMs);
  try {
    scope.signal.throwIfAborted();
    return await client.withDeadline(deadline, () => cancellable(client, scope.signal, () => fn(client)));
  } catch (error) {
    if (isTemporalUnavailable(error) || scope.signal.aborted) throw temporalUnavailable(error);
    throw error;
  }
}

/** Describes a job the caller may see, or throws the 404 that hides its existence. */
export async function findJob(
  temporal: TemporalGateway,
  jobId: string,
  caller: Caller,
  rules: AccessRules,
  scope?: ReadScope,
): Promise<VisibleJob> {
  const job = await describeJob(temporal, jobId, scope);
  if (job === undefined || !mayActOnJob(caller, job.memo.identity.principal, rules)) throw jobNotFound();
  return job;
}

/**
 * Describes a job (its latest run, or `runId`) whoever asks: access is the caller's to check
 * (findJob). Undefined for a workflow without a Gatehouse memo, which nobody may see.
 */
export async function describeJob(
  temporal: TemporalGateway,
  jobId: string,
  scope?: ReadScope,
  runId?: string,
): Promise<VisibleJob | undefined> {
  const describe = (client: Client) => client.workflow.getHandle(jobId, runId).describe();
  let description;
  try {
    description = await (scope === undefined ? temporal.call(describe) : scoped(temporal, scope, describe));
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) throw jobNotFound();
    throw error;
  }
  const memo = readMemo(description.memo);
  if (memo === undefined) return undefined;
  const source = description.typedSearchAttributes.getAll().find((pair) => pair.key.name === sourceKey.name)?.value;
  return {
    memo,
    view: {
      jobId,
      runId: description.runId,
      route: memo.request.route,
      workflowType: description.type,
      source: typeof source === 'string' ? source : 'api',
      owner: memo.identity.principal,
      status: contractStatus(description.status.name),
      startedAt: description.startTime.toISOString(),
      ...(description.closeTime === undefined ? {} : { closedAt: description.closeTime.toISOString() }),
    },
  };
}

/** A closed job's result or failure is one more call; a running job needs none. */
export async function withOutcome(temporal: TemporalGateway, view: JobView, scope: ReadScope): Promise<JobView> {
  if (view.status === 'RUNNING') return view;
  return { ...view, ...(await scoped(temporal, scope, (client) => outcome(client, view.jobId, view.runId))) };
}

/**
 * Reads a job; with `waitMs`, long-polls until it closes, the wait ends or the client goes away,
 * then reads it again. Visibility is checked before waiting, so a hidden job answers 404 at once.
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
  temporal: TemporalGateway,
  jobId: string,
  caller: Caller,
  rules: AccessRules,
  waitMs: number,
  clientGone: AbortSignal,
): Promise<JobView> {
  const began = Date.now();
  const waitEnd = began + waitMs;
  const { signal, abandon } = abandonable(clientGone);
  const scope: ReadScope = { deadline: waitEnd + temporal.requestTimeoutMs, signal };
  /** The job as last described while running: what a read that cannot finish answers. */
  let lastRunning: JobView | undefined;

  const read = async (): Promise<JobView> => {
    const first = await findJob(temporal, jobId, caller, rules, scope);
    if (first.view.status !== 'RUNNING' || waitMs <= 0) return withOutcome(temporal, first.view, scope);
    lastRunning = first.view;
    await untilClosed(temporal, first.view, waitEnd, scope.signal);
    // Nobody is waiting for the answer any more: do not ask Temporal for it.
    if (scope.signal.aborted) return first.view;
    const { view } = await findJob(temporal, jobId, caller, rules, scope);
    // A job seen closed is never answered as running; without its outcome the answer is a 503.
    lastRunning = view.status === 'RUNNING' ? view : undefined;
    return withOutcome(temporal, view, scope);
  };

  const reading = read();
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<'expired'>((resolve) => {
    timer = setTimeout(() => resolve('expired'), scope.deadline - Date.now());
  });
  try {
    const answer = await Promise.race([reading, expired]);
    if (answer !== 'expired') return answer;
  } catch (error) {
    if (!isTemporalUnavailableAnswer(error)) throw error;
    if (lastRunning === undefined) throw error;
    return lastRunning;
  } finally {
    clearTimeout(timer);
    // Whatever is still running (a long-poll, a describe Temporal never answered) is cancelled.
    abandon();
    reading.catch(() => undefined);
  }
  if (lastRunning !== undefined) return lastRunning;
  throw temporalUnavailable(new Error(`no answer from Temporal within ${scope.deadline - began} ms`));
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
 * Waits until the job's run closes, `waitEnd` passes or `signal` aborts, on the long-poll every
 * waiter of that run shares. A timer of ours ends the wait at `waitEnd`; the wait does not depend
 * on the poll's cancellation being heard. A poll that fails for want of Temporal does not end the
 * wait early (a client looping on ?wait would spin): the waiter waits out its time, then reads.
 * A waiting request holds one promise, one timer, one listener and its place in the poll's set:
 * thousands of idle waiters cost little.
 */
function untilClosed(temporal: TemporalGateway, view: JobView, waitEnd: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const finish = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', finish);
      leavePoll(poll, wake);
      resolve();
    };
    // Closing with a failure ends the wait like closing with a result; Temporal unreachable does not.
    const wake: Waiter = (error) => {
      if (error === undefined || !isTemporalUnavailable(error)) finish();
    };
    const poll = enterPoll(temporal, view, wake);
    const timer = setTimeout(finish, waitEnd - Date.now());
    signal.addEventListener('abort', finish, { once: true });
  });
}

/** Told once when its shared poll ends: with nothing when the run closed, or with why the poll failed. */
type Waiter = (error?: unknown) => void;

/** A long-poll for one run, shared by everyone waiting on it. */
interface SharedPoll {
  readonly key: string;
  readonly polls: Map<string, SharedPoll>;
  readonly controller: AbortController;
  readonly waiters: Set<Waiter>;
}

const sharedPolls = new WeakMap<TemporalGateway, Map<string, SharedPoll>>();

/** How many clients are waiting on a shared long-poll now, and on how many polls. */
export function waitingOn(temporal: TemporalGateway): { waiters: number; polls: number } {
  const polls = [...(sharedPolls.get(temporal)?.values() ?? [])];
  return { waiters: polls.reduce((sum, poll) => sum + poll.waiters.size, 0), polls: polls.length };
}

/**
 * Adds `waiter` to the one long-poll all waiters of the run share, starting it if there is none:
 * a thousand clients waiting on one job cost Temporal one call and the bridge one gRPC stream,
 * not a thousand. Every waiter is told when the poll ends; one that leaves first calls leavePoll.
 */
function enterPoll(temporal: TemporalGateway, view: Pick<JobView, 'jobId' | 'runId'>, waiter: Waiter): SharedPoll {
  let polls = sharedPolls.get(temporal);
  if (polls === undefined) sharedPolls.set(temporal, (polls = new Map()));
  const key = `${view.jobId}\u0000${view.runId}`;
  let poll = polls.get(key);
  if (poll === undefined) {
    const created: SharedPoll = { key, polls, controller: new AbortController(), waiters: new Set() };
    const settle = (error?: unknown) => {
      if (created.polls.get(key) === created) created.polls.delete(key);
      for (const told of created.waiters) {
        // One waiter's failure must not keep the others waiting (its own timer still ends it).
        try {
          told(error);
        } catch {}
      }
      created.waiters.clear();
    };
    pollClose(temporal, view, created.controller.signal).then(() => settle(), settle);
    polls.set(key, created);
    poll = created;
  }
  poll.waiters.add(waiter);
  return poll;
}

/** Takes `waiter` off the poll; the poll is cancelled when its last waiter leaves. */
function leavePoll(poll: SharedPoll, waiter: Waiter): void {
  if (!poll.waiters.delete(waiter) || poll.waiters.size > 0) return;
  if (poll.polls.get(poll.key) === poll) poll.polls.delete(poll.key);
  poll.controller.abort();
}

/**
 * The shared poll as a promise (the event streams' watches): resolves when the run closes for
 * good, rejects when the poll fails or `signal` aborts; leaving stops waiting at once, whatever
 * the other waiters do.
 */
export function joinPoll(
  temporal: TemporalGateway,
  view: Pick<JobView, 'jobId' | 'runId'>,
  signal: AbortSignal,
): Promise<void> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<void>((resolve, reject) => {
    const leave = () => {
      leavePoll(poll, told);
      reject(signal.reason);
    };
    const told: Waiter = (error) => {
      signal.removeEventListener('abort', leave);
      if (error === undefined) resolve();
      else reject(error);
    };
    const poll = enterPoll(temporal, view, told);
    signal.addEventListener('abort', leave, { once: true });
  });
}

/**
 * Each long-poll's gRPC deadline: beyond the frontend's own long-poll interval (20 s), so the
 * frontend always holds the poll for that interval. A deadline closer than that makes the frontend
 * answer "no event yet" about a second before it, and a poll loop then spins on immediate answers
 * until the deadline (about a thousand calls in that last second, measured on the dev server).
 * Our own timer cancels the poll at the end of the wait; this deadline only bounds a poll whose
 * cancellation was lost.
 */
export const longPollDeadlineMs = 30_000;

/**
 * Long-polls the close event of the job's run, following the runs it continues as, until one
 * closes for good or `signal` aborts. No poll starts once the signal has aborted (a call started
 * on an aborted signal would not be cancelled by it).
 */
async function pollClose(
  temporal: TemporalGateway,
  view: Pick<JobView, 'jobId' | 'runId'>,
  signal: AbortSignal,
): Promise<void> {
  const { client } = temporal;
  const request: proto.api.workflowservice.v1.IGetWorkflowExecutionHistoryRequest = {
    namespace: temporal.namespace,
    execution: { workflowId: view.jobId, runId: view.runId },
    waitNewEvent: true,
    skipArchival: true,
    historyEventFilterType: protos.temporal.api.enums.v1.HistoryEventFilterType.HISTORY_EVENT_FILTER_TYPE_CLOSE_EVENT,
  };
  while (!signal.aborted) {
    const response = await client.withDeadline(Date.now() + longPollDeadlineMs, () =>
      cancellable(client, signal, () => client.workflowService.getWorkflowExecutionHistory(request)),
    );
    const event = response.history?.events?.[0];
    if (event === undefined) {
      request.nextPageToken = response.nextPageToken;
      continue;
    }
    const next = nextRunId(event);
    if (next === undefined) return;
    request.execution = { workflowId: view.jobId, runId: next };
    request.nextPageToken = null;
  }
}

/** The run a close event hands over to (continued as new, retried, cron), if any. */
function nextRunId(event: proto.api.history.v1.IHistoryEvent): string | undefined {
  const next =
    event.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId ??
    event.workflowExecutionCompletedEventAttributes?.newExecutionRunId ??
    event.workflowExecutionFailedEventAttributes?.newExecutionRunId ??
    event.workflowExecutionTimedOutEventAttributes?.newExecutionRunId;
  return typeof next === 'string' && next !== '' ? next : undefined;
}

async function outcome(client: Client, jobId: string, runId: string): Promise<Pick<JobView, 'result' | 'failure'>> {
  try {
    // followRuns false: report this run's outcome, not a later run of a continued-as-new chain.
    return { result: await client.workflow.getHandle(jobId, runId, { followRuns: false }).result() };
  } catch (error) {
    if (!(error instanceof WorkflowFailedError)) throw error;
    return { failure: rootFailure(error) };
  }
}
