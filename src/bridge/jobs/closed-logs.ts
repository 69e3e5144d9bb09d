// Closed runs' logs. A closed run's log never changes, and reading it costs a worker a whole replay
// (the `status` query of a closed run), so it is read once per bridge and kept: streams on it at the
// same moment share the one read, and later streams take it from a cache (the least recently used
// let go first). The cache holds what every caller allowed to see the job sees: the read's access
// check still comes first, for every stream.
import type { FastifyBaseLogger } from 'fastify';
import { progressWorkflowTypes } from '../../core/ci-status.js';
import type { JobView } from '../../core/job-view.js';
import { withOutcome } from '../../temporal/job-outcome.js';
import type { TemporalGateway } from '../../temporal/gateway.js';
import { finalFrames, progressFrame, runTag, startedFrame } from './job-events.js';
import { queryProgress } from './progress-query.js';
import type { RunLog } from './sse-stream.js';

/** The most a bridge keeps of closed runs' logs; a log larger than an eighth of it is not kept. */
const closedLogCacheBytes = 16 * 1_048_576;

export const runKey = (view: Pick<JobView, 'jobId' | 'runId'>) => `${view.jobId}\u0000${view.runId}`;

export class ClosedLogs {
  private readonly cache = new LogCache(closedLogCacheBytes);
  /** Closed runs' logs being read now, shared by every stream that asks meanwhile. */
  private readonly reading = new Map<string, Promise<RunLog>>();

  constructor(
    private readonly temporal: TemporalGateway,
    private readonly log: FastifyBaseLogger,
  ) {}

  get size(): number {
    return this.cache.size;
  }

  /** A closed run's whole log: kept, being read, or read now (and kept when it is whole). */
  read(view: JobView): Promise<RunLog> {
    const key = runKey(view);
    const kept = this.cache.get(key);
    if (kept !== undefined) return Promise.resolve(kept);
    let read = this.reading.get(key);
    if (read === undefined) {
      read = this.readNow(view).finally(() => this.reading.delete(key));
      this.reading.set(key, read);
    }
    return read;
  }

  /** Keeps a whole log (a watch saw its run close). */
  keep(view: JobView, log: RunLog): void {
    this.cache.set(runKey(view), log);
  }

  /**
   * Reads a closed run's log: its progress (one query, replayed by a worker) and its outcome. The
   * read is shared, so it is bounded by its own deadline, not by the client that started it.
   */
  private async readNow(view: JobView): Promise<RunLog> {
    const budget = { deadline: Date.now() + 2 * this.temporal.requestTimeoutMs };
    const run = runTag(view.runId);
    const frames: string[] = [];
    let complete = true;
    if (progressWorkflowTypes.includes(view.workflowType)) {
      const progress = await queryProgress(this.temporal, view, new AbortController().signal, this.log);
      // Unanswered (no worker now): sent without its progress, and not kept, so it is asked again.
      complete = progress !== undefined;
      progress?.forEach((entry, index) => frames.push(progressFrame(run, index, entry)));
    }
    const final = await withOutcome(this.temporal, view, budget);
    const log: RunLog = { run, started: startedFrame(run, view), frames, final: finalFrames(run, final), lost: false };
    if (complete) this.keep(view, log);
    return log;
  }
}

/**
 * Logs by key, least recently used let go first, bounded by their size in bytes (UTF-16 code
 * units: about what the strings hold). A log larger than an eighth of the bound is not kept.
 */
class LogCache {
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
