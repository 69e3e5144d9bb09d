// Following a job's runs until it closes for good, for everyone on this process who waits on it:
// the ?wait long-polls and the event streams' watches. One long-poll of the run's history per run
// and mode, however many follow it: a thousand clients waiting on one job cost Temporal one call.
//
// A run that continues as new (or is retried, or is a cron's) has not closed the job: the job's id
// now names the next run, and GET /v1/jobs/{jobId} describes that one. So the poll moves on to the
// next run, tells its followers (`continued`), and ends only when a run closes for good.
// While Temporal cannot answer, the poll retries with backoff (1 s to 15 s) and tells nobody: a
// follower waits, and its own timer decides how long.
// @temporalio/proto is CommonJS whose named exports Node's ESM loader cannot detect: default import.
import protos, { type temporal as proto } from '@temporalio/proto';
import type { TemporalGateway } from './gateway.js';
import { readHistoryPage } from './run-history.js';
import { nextBackoff, sleep, unavailableBackoffMs } from './retry-unavailable.js';
import { isTemporalUnavailable } from './unavailable.js';

/** `close`: only the run's close event (cheap); `events`: every event, to hear each workflow task too. */
export type FollowMode = 'close' | 'events';

/** What a follower is told, in order. */
export type RunNews =
  /** `events` mode: a workflow task of `runId` completed; what its queries answer may have changed. */
  | { kind: 'progressed'; runId: string }
  /** `runId` closed and handed over to `next`, which the poll now follows. */
  | { kind: 'continued'; runId: string; next: string }
  /** `runId`, the last run, closed for good. */
  | { kind: 'closed'; runId: string }
  /** The run cannot be followed (it vanished, or Temporal refused the request): the poll has ended. */
  | { kind: 'lost'; error: unknown };

export type RunListener = (news: RunNews) => void;

export interface RunRef {
  jobId: string;
  runId: string;
}

/**
 * Each long-poll's gRPC deadline: beyond the frontend's own long-poll interval (20 s), so the
 * frontend always holds the poll for that interval. A deadline closer than that makes the frontend
 * answer "no event yet" about a second before it, and a poll loop then spins on immediate answers
 * until the deadline (about a thousand calls in that last second, measured on the dev server).
 * Followers end their waits with timers of their own; this deadline only bounds a poll whose
 * cancellation was lost.
 */
export const longPollDeadlineMs = 30_000;
const historyPageSize = 256;

interface SharedPoll {
  key: string;
  readonly mode: FollowMode;
  readonly listeners: Set<RunListener>;
  readonly controller: AbortController;
}

export class RunFollower {
  private readonly polls = new Map<string, SharedPoll>();

  constructor(private readonly temporal: TemporalGateway) {}

  /** Followers and the polls they share now, in one mode. */
  counts(mode: FollowMode): { followers: number; polls: number } {
    const polls = [...this.polls.values()].filter((poll) => poll.mode === mode);
    return { followers: polls.reduce((sum, poll) => sum + poll.listeners.size, 0), polls: polls.length };
  }

  /**
   * Tells `listener` what happens to the job from `run` on, until it closes for good or the poll
   * is lost. Answers the function that stops listening; the poll stops with its last listener.
   */
  follow(run: RunRef, mode: FollowMode, listener: RunListener): () => void {
    const key = pollKey(mode, run.jobId, run.runId);
    let poll = this.polls.get(key);
    if (poll === undefined) {
      const created: SharedPoll = { key, mode, listeners: new Set(), controller: new AbortController() };
      this.polls.set(key, created);
      void this.poll(created, run);
      poll = created;
    }
    const joined = poll;
    joined.listeners.add(listener);
    return () => {
      if (!joined.listeners.delete(listener) || joined.listeners.size > 0) return;
      this.forget(joined);
      joined.controller.abort();
    };
  }

  /**
   * Resolves when the job closes for good; rejects when the poll is lost or `signal` aborts.
   * Leaving (the abort) stops waiting at once, whatever the other followers do.
   */
  untilClosed(run: RunRef, signal: AbortSignal): Promise<void> {
    if (signal.aborted) return Promise.reject(signal.reason);
    return new Promise<void>((resolve, reject) => {
      const leave = () => {
        stop();
        reject(signal.reason);
      };
      const stop = this.follow(run, 'close', (news) => {
        if (news.kind === 'continued') return;
        signal.removeEventListener('abort', leave);
        if (news.kind === 'closed') resolve();
        else if (news.kind === 'lost') reject(news.error);
      });
      signal.addEventListener('abort', leave, { once: true });
    });
  }

  private forget(poll: SharedPoll): void {
    if (this.polls.get(poll.key) === poll) this.polls.delete(poll.key);
  }

  /** Long-polls the runs' history until the job closes for good, the poll is lost or left. */
  private async poll(poll: SharedPoll, run: RunRef): Promise<void> {
    const { signal } = poll.controller;
    let runId = run.runId;
    let token: Uint8Array | null = null;
    let delay: number = unavailableBackoffMs.first;
    // No poll starts once the signal has aborted (a call started on an aborted signal is not cancelled by it).
    while (!signal.aborted) {
      let response: proto.api.workflowservice.v1.IGetWorkflowExecutionHistoryResponse;
      try {
        const request = this.historyRequest(poll.mode, run.jobId, runId, token);
        response = await this.temporal.call((client) => client.workflowService.getWorkflowExecutionHistory(request), {
          timeoutMs: longPollDeadlineMs,
          signal,
        });
        delay = unavailableBackoffMs.first;
      } catch (error) {
        if (signal.aborted) return;
        if (!isTemporalUnavailable(error)) return this.end(poll, { kind: 'lost', error });
        // From the start of the run again: a token the poll held may not outlive a restarted server.
        token = null;
        await sleep(delay, signal);
        delay = nextBackoff(delay);
        continue;
      }
      const page = readHistoryPage(response.history?.events ?? []);
      if (page.progressed) tell(poll, { kind: 'progressed', runId });
      if (page.closed !== undefined) {
        const { next } = page.closed;
        if (next === undefined) return this.end(poll, { kind: 'closed', runId });
        tell(poll, { kind: 'continued', runId, next });
        this.rekey(poll, pollKey(poll.mode, run.jobId, next));
        runId = next;
        token = null;
        continue;
      }
      // No close event and no token to go on from: read the run's history from its start again.
      const next = response.nextPageToken;
      token = next === null || next === undefined || next.length === 0 ? null : next;
    }
  }

  /** Followers of the next run find this poll; one that already polls it keeps its own. */
  private rekey(poll: SharedPoll, key: string): void {
    this.forget(poll);
    poll.key = key;
    if (!this.polls.has(key)) this.polls.set(key, poll);
  }

  private end(poll: SharedPoll, news: RunNews): void {
    this.forget(poll);
    tell(poll, news);
    poll.listeners.clear();
  }

  private historyRequest(
    mode: FollowMode,
    workflowId: string,
    runId: string,
    token: Uint8Array | null,
  ): proto.api.workflowservice.v1.IGetWorkflowExecutionHistoryRequest {
    const filter = protos.temporal.api.enums.v1.HistoryEventFilterType;
    return {
      namespace: this.temporal.namespace,
      execution: { workflowId, runId },
      waitNewEvent: true,
      skipArchival: true,
      nextPageToken: token,
      ...(mode === 'close'
        ? { historyEventFilterType: filter.HISTORY_EVENT_FILTER_TYPE_CLOSE_EVENT }
        : { maximumPageSize: historyPageSize }),
    };
  }
}

function pollKey(mode: FollowMode, jobId: string, runId: string): string {
  return `${mode}\u0000${jobId}\u0000${runId}`;
}

/** Tells every listener; one listener's failure must not keep the others from hearing it. */
function tell(poll: SharedPoll, news: RunNews): void {
  for (const listener of [...poll.listeners]) {
    try {
      listener(news);
    } catch {}
  }
}
