// Server-Sent Events for a job: GET /v1/jobs/{jobId}/events. What the events are and how they are
// named is in job-events.ts; this file follows runs in Temporal and writes the streams.
//
// - Visibility is the read's: the job is described for the caller first, and one they may not see
//   is a 404 before anything is streamed.
// - One watch per run, shared by every stream of that run on this bridge, like the ?wait long-polls
//   (read-job.ts): a thousand streams on one job cost Temporal one long-poll. A job without a
//   progress log waits on the very long-poll ?wait clients share (its close event). A CI job
//   long-polls its history for new events and asks the workflow's `status` query once per
//   completed workflow task, the only moment its log can grow. Streams on different jobs cost a
//   watch each, bounded by the stream caps below. The watch ends with its last stream.
// - A closed job needs no watch: its whole log is sent and the stream ends. A closed run's log
//   never changes, and reading it costs a worker a whole replay (the `status` query of a closed
//   run), so it is read once per bridge and kept: streams on it at the same moment share the one
//   read, and later streams take it from a cache of closed runs' logs (closedLogCacheBytes, the
//   least recently used let go first). A watch that saw its run close leaves the log there too.
//   The cache holds what every caller allowed to see the job sees: the read's access check still
//   comes first, for every stream.
// - Temporal unreachable while a stream is open: the watch retries with backoff (1 s to 15 s) and
//   the stream stays open on heartbeats, so a client sees a pause, not an error.
// - Heartbeat: a comment every limits.streamHeartbeat, well inside every hop's idle timeout (the
//   edge's timeout client/server, 65 s).
// - Limits: limits.maxStreams per bridge (503 GATEHOUSE_STREAM_CAPACITY), limits.maxStreamsPerCaller
//   per principal (429 GATEHOUSE_TOO_MANY_STREAMS; the edge caps each subject too), watches:
//   limits.maxStreamWatches per bridge (503) and each principal's share of them,
//   limits.maxStreamWatchesPerCaller (429 GATEHOUSE_TOO_MANY_STREAMS: one principal following many
//   running jobs cannot take the watches everyone else needs; joining a watch that exists costs
//   nothing and is not refused), and
//   limits.streamMaxDuration, after which the stream ends with a `retry` and the client resumes
//   with Last-Event-ID. A client that stops reading is cut off once 1 MiB waits for it (it resumes
//   the same way) rather than held in memory.
// - Shutdown: Fastify's preClose ends every stream with a `retry` spread over a few seconds, so
//   clients reconnect to the other replicas (the edge has stopped sending here by then: the drain
//   delay) without arriving all at once.
import type { ServerResponse } from 'node:http';
import { context, ROOT_CONTEXT } from '@opentelemetry/api';
import type { FastifyBaseLogger, FastifyReply } from 'fastify';
// @temporalio/proto is CommonJS whose named exports Node's ESM loader cannot detect: default import.
import protos, { type temporal as proto } from '@temporalio/proto';
import type { AccessRules, Caller } from '../../core/access.js';
import { ciStatusQueryName, progressWorkflowTypes } from '../../core/ci-status.js';
import { GatehouseError } from '../errors.js';
import type { TemporalGateway } from '../temporal/temporal-plugin.js';
import { isTemporalUnavailable, isTemporalUnavailableAnswer } from '../temporal/unavailable.js';
import {
  finalFrames,
  heartbeatFrame,
  parseLastEventId,
  progressFrame,
  readProgress,
  retryFrame,
  runTag,
  startedFrame,
} from './job-events.js';
import {
  cancellable,
  describeJob,
  findJob,
  joinPoll,
  jobNotFound,
  longPollDeadlineMs,
  withOutcome,
  type JobView,
  type ReadScope,
} from './read-job.js';

export interface StreamLimits {
  heartbeatMs: number;
  maxDurationMs: number;
  maxStreams: number;
  maxPerCaller: number;
  /** Running jobs followed at once (one Temporal long-poll each). */
  maxWatches: number;
  /** Each principal's share of maxWatches: the watches it may have started or joined. */
  maxWatchesPerCaller: number;
}

/** What a stream sends: the frames of a run's log known so far. */
interface RunLog {
  readonly started: string;
  /** Frame i is position i + 1 (progress entry i). */
  readonly frames: readonly string[];
  /** The final state's frames, once the run has closed. */
  final: string | undefined;
  /** The run can no longer be followed (it vanished): streams end, and a reconnect reads it anew. */
  lost: boolean;
}

interface Watch extends RunLog {
  readonly key: string;
  readonly run: string;
  readonly view: JobView;
  readonly frames: string[];
  readonly subscribers: Set<(log: RunLog) => void>;
  /** Streams of this watch by principal: a principal holds a share of the watches it is on. */
  readonly principals: Map<string, number>;
  readonly controller: AbortController;
  /** The log was read after the run closed (not a partial one): it may be kept. */
  complete: boolean;
}

/** The delay a client is asked to wait before reconnecting after a network error. */
const reconnectMs = 2_000;
/** A client this far behind is cut off; it resumes with Last-Event-ID. */
const maxBufferedBytes = 1_048_576;
const retryBackoffMs = { first: 1_000, max: 15_000 };
const historyPageSize = 256;
/** The most a bridge keeps of closed runs' logs; a log larger than an eighth of it is not kept. */
const closedLogCacheBytes = 16 * 1_048_576;

const eventTypes = protos.temporal.api.enums.v1.EventType;
const closeEventTypes = new Set<number>([
  eventTypes.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED,
  eventTypes.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED,
  eventTypes.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED,
  eventTypes.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED,
  eventTypes.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT,
  eventTypes.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW,
]);

const watchKey = (view: JobView) => `${view.jobId}\u0000${view.runId}`;

export class JobStreams {
  private readonly streams = new Set<OpenStream>();
  private readonly perCaller = new Map<string, number>();
  /** Slots taken: open streams and those still being set up (a burst must not overshoot the cap). */
  private taken = 0;
  private readonly watches = new Map<string, Watch>();
  /** How many watches each principal is on. */
  private readonly watchesOf = new Map<string, number>();
  private readonly closedLogs = new ClosedLogCache(closedLogCacheBytes);
  /** Closed runs' logs being read now, shared by every stream that asks meanwhile. */
  private readonly reading = new Map<string, Promise<RunLog>>();
  /** Set when the bridge starts draining: streams are ended and no new one is opened. */
  private closing = false;

  constructor(
    private readonly temporal: TemporalGateway,
    private readonly rules: AccessRules,
    private readonly limits: StreamLimits,
    private readonly log: FastifyBaseLogger,
  ) {}

  /** Open streams, and the runs they watch. */
  counts(): { streams: number; watches: number; cachedLogs: number } {
    return { streams: this.streams.size, watches: this.watches.size, cachedLogs: this.closedLogs.size };
  }

  /**
   * Answers GET /v1/jobs/{jobId}/events: a problem (thrown) before anything is streamed, 204 when
   * Last-Event-ID already names the final state, otherwise the stream (the reply is hijacked).
   */
  async serve(caller: Caller, jobId: string, lastEventId: string | string[] | undefined, reply: FastifyReply) {
    const resume = parseLastEventId(lastEventId);
    const release = this.reserve(caller.principal);
    try {
      const gone = new AbortController();
      reply.raw.once('close', () => gone.abort());
      const scope: ReadScope = { deadline: Date.now() + 3 * this.temporal.requestTimeoutMs, signal: gone.signal };
      const { view } = await findJob(this.temporal, jobId, caller, this.rules, scope);
      const run = runTag(view.runId);
      const cursor = resume?.run === run ? resume.position : -1;
      if (cursor === 'end') {
        release();
        await reply.code(204).send();
        return;
      }
      const closed = view.status === 'RUNNING' ? undefined : await this.closedLog(view, run);
      if (gone.signal.aborted) throw jobNotFound(); // nobody to answer; any answer will do
      // A draining bridge opens nothing (the client retries on another), and a new watch must fit:
      // each holds a Temporal long-poll, and the namespace's budget for them is shared.
      const newWatch = closed === undefined && !this.watches.has(watchKey(view));
      if (this.closing || (newWatch && this.watches.size >= this.limits.maxWatches)) {
        throw new GatehouseError('GATEHOUSE_STREAM_CAPACITY', 'This bridge cannot follow another job now', {
          headers: { 'retry-after': this.closing ? '1' : '5' },
        });
      }
      const held = this.watchesOf.get(caller.principal) ?? 0;
      if (newWatch && held >= this.limits.maxWatchesPerCaller) {
        throw new GatehouseError(
          'GATEHOUSE_TOO_MANY_STREAMS',
          `You follow ${held} running jobs on this bridge, your share; close a stream on one of them before following another`,
          { headers: { 'retry-after': '10' } },
        );
      }
      reply.hijack();
      const stream = new OpenStream(reply.raw, cursor, reply.request.id, () => {
        this.streams.delete(stream);
        release();
      });
      this.streams.add(stream);
      stream.start(this.limits);
      if (closed !== undefined) {
        stream.pump(closed);
        return;
      }
      stream.onClose(this.subscribe(view, run, caller.principal, (log) => stream.pump(log)));
    } catch (error) {
      release();
      throw error;
    }
  }

  /**
   * Ends every stream, asking clients to come back in 0.5 to 3 s (spread, so they do not all at
   * once), and opens no more. Called when the bridge starts draining (before the edge sees it go
   * down and cuts what is still open) and again when it closes.
   */
  closeAll(why: string): void {
    this.closing = true;
    for (const stream of [...this.streams]) stream.close(500 + Math.random() * 2_500, why);
  }

  /** Takes a stream slot for this caller, or refuses; the returned function gives it back once. */
  private reserve(principal: string): () => void {
    if (this.taken >= this.limits.maxStreams) {
      throw new GatehouseError('GATEHOUSE_STREAM_CAPACITY', 'This bridge holds as many event streams as it may', {
        headers: { 'retry-after': '5' },
      });
    }
    const mine = this.perCaller.get(principal) ?? 0;
    if (mine >= this.limits.maxPerCaller) {
      throw new GatehouseError(
        'GATEHOUSE_TOO_MANY_STREAMS',
        `You have ${mine} event streams open; close one before opening another`,
        { headers: { 'retry-after': '10' } },
      );
    }
    this.perCaller.set(principal, mine + 1);
    this.taken += 1;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.taken -= 1;
      const left = (this.perCaller.get(principal) ?? 1) - 1;
      if (left <= 0) this.perCaller.delete(principal);
      else this.perCaller.set(principal, left);
    };
  }

  /** A closed run's whole log: kept, being read, or read now (and kept when it is whole). */
  private closedLog(view: JobView, run: string): Promise<RunLog> {
    const key = watchKey(view);
    const kept = this.closedLogs.get(key);
    if (kept !== undefined) return Promise.resolve(kept);
    let read = this.reading.get(key);
    if (read === undefined) {
      read = this.readClosedLog(view, run).finally(() => this.reading.delete(key));
      this.reading.set(key, read);
    }
    return read;
  }

  /**
   * Reads a closed run's log: its progress (one query, replayed by a worker) and its outcome. The
   * read is shared, so it is bounded by its own deadline, not by the client that started it.
   */
  private async readClosedLog(view: JobView, run: string): Promise<RunLog> {
    const scope: ReadScope = {
      deadline: Date.now() + 2 * this.temporal.requestTimeoutMs,
      signal: new AbortController().signal,
    };
    const frames: string[] = [];
    let complete = true;
    if (progressWorkflowTypes.includes(view.workflowType)) {
      const progress = await this.queryProgress(view, scope.signal);
      // Unanswered (no worker now): sent without its progress, and not kept, so it is asked again.
      complete = progress !== undefined;
      progress?.forEach((entry, index) => frames.push(progressFrame(run, index, entry)));
    }
    const final = await withOutcome(this.temporal, view, scope);
    const log: RunLog = { started: startedFrame(run, view), frames, final: finalFrames(run, final), lost: false };
    if (complete) this.closedLogs.set(watchKey(view), log);
    return log;
  }

  /**
   * Joins the watch of this run (starting it for the first stream) and sends what it knows at
   * once; `update` is called whenever it learns more. Answers the function that leaves it.
   */
  private subscribe(view: JobView, run: string, principal: string, update: (log: RunLog) => void): () => void {
    const key = watchKey(view);
    let watch = this.watches.get(key);
    if (watch === undefined) {
      const created: Watch = {
        key,
        run,
        view,
        started: startedFrame(run, view),
        frames: [],
        final: undefined,
        lost: false,
        subscribers: new Set(),
        principals: new Map(),
        controller: new AbortController(),
        complete: false,
      };
      this.watches.set(key, created);
      // In no request's trace: the watch outlives the request that started it.
      context.with(ROOT_CONTEXT, () => void this.follow(created));
      watch = created;
    }
    const joined = watch;
    joined.subscribers.add(update);
    this.countOn(joined, principal, 1);
    update(joined);
    let left = false;
    return () => {
      if (left) return;
      left = true;
      joined.subscribers.delete(update);
      this.countOn(joined, principal, -1);
      if (joined.subscribers.size > 0 || joined.final !== undefined || joined.lost) return;
      if (this.watches.get(key) === joined) this.watches.delete(key);
      joined.controller.abort();
    };
  }

  /** Counts a principal's streams on a watch, and the watches each principal is on. */
  private countOn(watch: Watch, principal: string, change: 1 | -1): void {
    const before = watch.principals.get(principal) ?? 0;
    const after = before + change;
    if (after > 0) watch.principals.set(principal, after);
    else watch.principals.delete(principal);
    if ((before === 0) === (after === 0)) return;
    const held = (this.watchesOf.get(principal) ?? 0) + (after > 0 ? 1 : -1);
    if (held > 0) this.watchesOf.set(principal, held);
    else this.watchesOf.delete(principal);
  }

  /** Follows a run until it closes, then reads its final state; tells every stream as it goes. */
  private async follow(watch: Watch): Promise<void> {
    const { signal } = watch.controller;
    const withProgress = progressWorkflowTypes.includes(watch.view.workflowType);
    try {
      for (;;) {
        await this.retrying(signal, () =>
          withProgress ? this.followHistory(watch) : joinPoll(this.temporal, watch.view, signal),
        );
        // The log as the run closed it (a closed run's query is answered by a worker's replay).
        watch.complete = !withProgress || (await this.refreshProgress(watch));
        const final = await this.retrying(signal, async () => {
          const scope: ReadScope = { deadline: Date.now() + 2 * this.temporal.requestTimeoutMs, signal };
          const job = await describeJob(this.temporal, watch.view.jobId, scope, watch.view.runId);
          if (job === undefined) throw jobNotFound();
          return withOutcome(this.temporal, job.view, scope);
        });
        if (final.status !== 'RUNNING') {
          watch.final = finalFrames(watch.run, final);
          if (watch.complete)
            this.closedLogs.set(watch.key, {
              started: watch.started,
              frames: [...watch.frames],
              final: watch.final,
              lost: false,
            });
          break;
        }
        await sleep(retryBackoffMs.first, signal);
      }
    } catch (error) {
      if (signal.aborted) return;
      this.log.warn({ jobId: watch.view.jobId, err: error }, 'a job event stream lost its run');
      watch.lost = true;
    } finally {
      if (this.watches.get(watch.key) === watch) this.watches.delete(watch.key);
    }
    for (const update of [...watch.subscribers]) update(watch);
  }

  /**
   * Long-polls the run's history for new events until it closes. Its log can only grow when a
   * workflow task completes, so only then is the workflow asked for it.
   */
  private async followHistory(watch: Watch): Promise<void> {
    const { client } = this.temporal;
    const { signal } = watch.controller;
    const request: proto.api.workflowservice.v1.IGetWorkflowExecutionHistoryRequest = {
      namespace: this.temporal.namespace,
      execution: { workflowId: watch.view.jobId, runId: watch.view.runId },
      waitNewEvent: true,
      skipArchival: true,
      maximumPageSize: historyPageSize,
    };
    while (!signal.aborted) {
      // The deadline only bounds a poll whose cancellation was lost (see read-job.ts).
      const response = await client.withDeadline(Date.now() + longPollDeadlineMs, () =>
        cancellable(client, signal, () => client.workflowService.getWorkflowExecutionHistory(request)),
      );
      const events = response.history?.events ?? [];
      if (events.some((event) => closeEventTypes.has(event.eventType ?? 0))) return;
      if (events.some((event) => event.eventType === eventTypes.EVENT_TYPE_WORKFLOW_TASK_COMPLETED))
        await this.refreshProgress(watch);
      // No token and no close event: let the caller describe the run and decide.
      if (response.nextPageToken === null || response.nextPageToken === undefined) return;
      if (response.nextPageToken.length === 0) return;
      request.nextPageToken = response.nextPageToken;
    }
  }

  /** Asks the workflow for its log and tells the streams what is new; false when it did not answer. */
  private async refreshProgress(watch: Watch): Promise<boolean> {
    const progress = await this.queryProgress(watch.view, watch.controller.signal);
    if (progress === undefined) return false;
    if (progress.length <= watch.frames.length) return true;
    for (let index = watch.frames.length; index < progress.length; index += 1)
      watch.frames.push(progressFrame(watch.run, index, progress[index]!));
    for (const update of [...watch.subscribers]) update(watch);
    return true;
  }

  /** The run's progress log, or undefined when the workflow cannot answer now (no worker, say). */
  private async queryProgress(view: JobView, signal: AbortSignal) {
    const { client } = this.temporal;
    try {
      const answer = await client.withDeadline(Date.now() + this.temporal.requestTimeoutMs, () =>
        cancellable(client, signal, () =>
          client.workflow.getHandle(view.jobId, view.runId).query<unknown>(ciStatusQueryName),
        ),
      );
      return readProgress(answer);
    } catch (error) {
      if (!signal.aborted) this.log.debug({ jobId: view.jobId, err: error }, 'status query not answered');
      return undefined;
    }
  }

  /** Runs fn again while Temporal is unreachable, backing off; other failures are thrown. */
  private async retrying<T>(signal: AbortSignal, fn: () => Promise<T>): Promise<T> {
    let delay = retryBackoffMs.first;
    for (;;) {
      try {
        signal.throwIfAborted();
        return await fn();
      } catch (error) {
        const unavailable = isTemporalUnavailable(error) || isTemporalUnavailableAnswer(error);
        if (signal.aborted || !unavailable) throw error;
        await sleep(delay, signal);
        delay = Math.min(delay * 2, retryBackoffMs.max);
      }
    }
  }
}

/**
 * Closed runs' logs, least recently used let go first, bounded by their size in bytes (UTF-16
 * code units: about what the strings hold). A log larger than an eighth of the bound is not kept.
 */
class ClosedLogCache {
  private readonly logs = new Map<string, { log: RunLog; bytes: number }>();
  private bytes = 0;

  constructor(private readonly maxBytes: number) {}

  get size(): number {
    return this.logs.size;
  }

  get(key: string): RunLog | undefined {
    const entry = this.logs.get(key);
    if (entry === undefined) return undefined;
    this.logs.delete(key);
    this.logs.set(key, entry);
    return entry.log;
  }

  set(key: string, log: RunLog): void {
    const bytes = 2 * (log.started.length + (log.final?.length ?? 0) + log.frames.reduce((n, f) => n + f.length, 0));
    if (bytes > this.maxBytes / 8) return;
    const old = this.logs.get(key);
    if (old !== undefined) {
      this.logs.delete(key);
      this.bytes -= old.bytes;
    }
    this.logs.set(key, { log, bytes });
    this.bytes += bytes;
    for (const [oldest, entry] of this.logs) {
      if (this.bytes <= this.maxBytes) break;
      this.logs.delete(oldest);
      this.bytes -= entry.bytes;
    }
  }
}

/** Waits `ms`, or less if `signal` aborts first. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
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

/** One client's stream: where it is in the run's log, its timers, and its response. */
class OpenStream {
  private done = false;
  private heartbeat: NodeJS.Timeout | undefined;
  private expiry: NodeJS.Timeout | undefined;
  private readonly closers: Array<() => void> = [];

  /** `cursor`: the last position the client has (-1: none). */
  constructor(
    private readonly res: ServerResponse,
    private cursor: number,
    private readonly requestId: string,
    cleanUp: () => void,
  ) {
    this.closers.push(cleanUp);
    res.once('close', () => {
      this.done = true;
      clearInterval(this.heartbeat);
      clearTimeout(this.expiry);
      for (const close of this.closers.splice(0)) close();
    });
  }

  onClose(close: () => void): void {
    if (this.done) close();
    else this.closers.push(close);
  }

  start(limits: StreamLimits): void {
    this.res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      // no-transform: no proxy may compress or rewrite (and so hold back) the stream.
      'cache-control': 'no-cache, no-transform',
      'x-accel-buffering': 'no',
      'x-request-id': this.requestId,
    });
    this.write(retryFrame(reconnectMs));
    this.heartbeat = setInterval(() => this.write(heartbeatFrame), limits.heartbeatMs);
    this.expiry = setTimeout(
      () => this.close(Math.random() * 1_000, 'stream duration limit reached; reconnect with Last-Event-ID'),
      limits.maxDurationMs,
    );
  }

  /** Sends what the client does not have yet; ends the stream after the final state. */
  pump(log: RunLog): void {
    if (this.done) return;
    if (this.cursor < 0) {
      if (!this.write(log.started)) return;
      this.cursor = 0;
    }
    while (this.cursor < log.frames.length) {
      if (!this.write(log.frames[this.cursor]!)) return;
      this.cursor += 1;
    }
    if (log.final !== undefined) {
      if (this.write(log.final)) this.end();
    } else if (log.lost) {
      this.close(reconnectMs, 'the job can no longer be followed here; reconnect');
    }
  }

  /** Ends the stream early, asking the client to reconnect (with Last-Event-ID) after `delayMs`. */
  close(delayMs: number, why: string): void {
    if (this.write(retryFrame(delayMs, why))) this.end();
  }

  private end(): void {
    if (this.done) return;
    this.done = true;
    clearInterval(this.heartbeat);
    clearTimeout(this.expiry);
    this.res.end();
  }

  private write(chunk: string): boolean {
    if (this.done || this.res.writableEnded || this.res.destroyed) return false;
    if (this.res.writableLength > maxBufferedBytes) {
      // Not reading: let go of it (and of what waits for it) instead of buffering without end.
      this.res.destroy();
      return false;
    }
    this.res.write(chunk);
    return true;
  }
}
