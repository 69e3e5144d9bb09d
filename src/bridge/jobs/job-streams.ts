// Server-Sent Events for a job: GET /v1/jobs/{jobId}/events. What the events are and how they are
// named is job-events.ts; following a job is a watch's (run-watch.ts), writing a stream the SSE
// stream's (sse-stream.ts), and what streams may take the slots' (stream-slots.ts).
//
// - Visibility is the read's: the job is described for the caller first, and one they may not see
//   is a 404 before anything is streamed.
// - One watch per job run, shared by every stream of it on this bridge: a thousand streams on one
//   job cost Temporal one long-poll. Streams on different jobs cost a watch each, bounded by
//   limits.maxStreamWatches per bridge (503) and each principal's share of them. The watch ends
//   with its last stream.
// - A closed job needs no watch: its whole log is sent (closed-logs.ts) and the stream ends.
// - Heartbeat: a comment every limits.streamHeartbeat, well inside every hop's idle timeout (the
//   edge's timeout client/server, 65 s). After limits.streamMaxDuration the stream ends with a
//   `retry` and the client resumes with Last-Event-ID. A client that stops reading is cut off once
//   1 MiB waits for it (it resumes the same way) rather than held in memory.
// - Shutdown: Fastify's preClose ends every stream with a `retry` spread over a few seconds, so
//   clients reconnect to the other replicas (the edge has stopped sending here by then: the drain
//   delay) without arriving all at once.
import { context, ROOT_CONTEXT } from '@opentelemetry/api';
import type { FastifyBaseLogger, FastifyReply } from 'fastify';
import type { AccessRules, Caller } from '../../core/access.js';
import type { JobView } from '../../core/job-view.js';
import { GatehouseError } from '../errors.js';
import type { BridgeTemporal } from '../temporal/temporal-plugin.js';
import { ClosedLogs, runKey } from './closed-logs.js';
import { parseLastEventId, runTag } from './job-events.js';
import { findJob, jobNotFound } from './read-job.js';
import { RunWatch, type WatchHost } from './run-watch.js';
import { SseStream, type RunLog, type StreamTimers } from './sse-stream.js';
import { StreamSlots } from './stream-slots.js';

export interface StreamLimits extends StreamTimers {
  maxStreams: number;
  maxPerCaller: number;
  /** Running jobs followed at once (one Temporal long-poll each). */
  maxWatches: number;
  /** Each principal's share of maxWatches: the watches it may have started or joined. */
  maxWatchesPerCaller: number;
}

export class JobStreams {
  private readonly streams = new Set<SseStream>();
  private readonly slots: StreamSlots;
  private readonly watches = new Map<string, RunWatch>();
  private readonly closedLogs: ClosedLogs;
  private readonly host: WatchHost;
  /** Set when the bridge starts draining: streams are ended and no new one is opened. */
  private closing = false;

  constructor(
    private readonly temporal: BridgeTemporal,
    private readonly rules: AccessRules,
    private readonly limits: StreamLimits,
    log: FastifyBaseLogger,
  ) {
    this.slots = new StreamSlots(limits);
    this.closedLogs = new ClosedLogs(temporal, log);
    this.host = {
      temporal,
      log,
      moved: (watch, before) => {
        if (this.watches.get(runKey(before)) === watch) this.watches.delete(runKey(before));
        if (!this.watches.has(runKey(watch.view))) this.watches.set(runKey(watch.view), watch);
      },
      ended: (watch) => {
        if (this.watches.get(runKey(watch.view)) === watch) this.watches.delete(runKey(watch.view));
      },
      keep: (view, log) => this.closedLogs.keep(view, log),
    };
  }

  /** Open streams, the runs they watch, and the closed runs' logs kept. */
  counts(): { streams: number; watches: number; cachedLogs: number } {
    return { streams: this.streams.size, watches: this.watches.size, cachedLogs: this.closedLogs.size };
  }

  /**
   * Answers GET /v1/jobs/{jobId}/events: a problem (thrown) before anything is streamed, 204 when
   * Last-Event-ID already names the final state, otherwise the stream (the reply is hijacked).
   */
  async serve(caller: Caller, jobId: string, lastEventId: string | string[] | undefined, reply: FastifyReply) {
    const resume = parseLastEventId(lastEventId);
    const release = this.slots.reserve(caller.principal);
    try {
      const gone = new AbortController();
      reply.raw.once('close', () => gone.abort());
      const budget = { deadline: Date.now() + 3 * this.temporal.requestTimeoutMs, signal: gone.signal };
      const { view } = await findJob(this.temporal, jobId, caller, this.rules, budget);
      const run = runTag(view.runId);
      const cursor = resume?.run === run ? resume.position : -1;
      if (cursor === 'end') {
        release();
        await reply.code(204).send();
        return;
      }
      const closed = view.status === 'RUNNING' ? undefined : await this.closedLogs.read(view);
      if (gone.signal.aborted) throw jobNotFound(); // nobody to answer; any answer will do
      // A draining bridge opens nothing (the client retries on another), and a new watch must fit:
      // each holds a Temporal long-poll, and the namespace's budget for them is shared.
      const newWatch = closed === undefined && !this.watches.has(runKey(view));
      if (this.closing || (newWatch && this.watches.size >= this.limits.maxWatches)) {
        throw new GatehouseError('GATEHOUSE_STREAM_CAPACITY', 'This bridge cannot follow another job now', {
          headers: { 'retry-after': this.closing ? '1' : '5' },
        });
      }
      if (newWatch) this.slots.checkWatchShare(caller.principal);
      reply.hijack();
      const stream = new SseStream(reply.raw, run, cursor, reply.request.id, () => {
        this.streams.delete(stream);
        release();
      });
      this.streams.add(stream);
      stream.start(this.limits);
      if (closed !== undefined) {
        stream.pump(closed);
        return;
      }
      stream.onClose(this.subscribe(view, caller.principal, (log) => stream.pump(log)));
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

  /**
   * Joins the watch of this run (starting it for the first stream) and sends what it knows at
   * once; `update` is called whenever it learns more. Answers the function that leaves it.
   */
  private subscribe(view: JobView, principal: string, update: (log: RunLog) => void): () => void {
    let watch = this.watches.get(runKey(view));
    if (watch === undefined) {
      const created = new RunWatch(this.host, view);
      this.watches.set(runKey(view), created);
      // In no request's trace: the watch outlives the request that started it.
      context.with(ROOT_CONTEXT, () => created.start());
      watch = created;
    }
    const joined = watch;
    joined.subscribers.add(update);
    this.slots.countOn(joined.principals, principal, 1);
    update(joined);
    let left = false;
    return () => {
      if (left) return;
      left = true;
      joined.subscribers.delete(update);
      this.slots.countOn(joined.principals, principal, -1);
      if (joined.subscribers.size > 0 || joined.final !== undefined || joined.lost) return;
      this.host.ended(joined);
      joined.stop();
    };
  }
}
