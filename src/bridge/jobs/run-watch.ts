// A watch: one job followed in Temporal for every stream of it on this bridge, and the log those
// streams send. A job without a progress log waits on the close poll ?wait clients share; a CI job
// follows every event of its run and asks the workflow's `status` query once per completed
// workflow task, the only moment its log can grow. A run that continues as new moves the watch on
// to the next run, whose log the streams send from its start; the final state comes once the job
// has closed for good. Temporal unreachable: the watch waits it out (src/temporal), and its streams
// stay open on heartbeats, so a client sees a pause, not an error.
import type { FastifyBaseLogger } from 'fastify';
import { progressWorkflowTypes } from '../../core/ci-status.js';
import type { JobView } from '../../core/job-view.js';
import { describeJob } from '../../temporal/describe-job.js';
import { withOutcome } from '../../temporal/job-outcome.js';
import { retryWhileUnavailable } from '../../temporal/retry-unavailable.js';
import type { RunNews } from '../../temporal/run-follower.js';
import type { BridgeTemporal } from '../temporal/temporal-plugin.js';
import { finalFrames, progressFrame, runTag, startedFrame } from './job-events.js';
import { queryProgress } from './progress-query.js';
import type { RunLog } from './sse-stream.js';

export interface WatchHost {
  temporal: BridgeTemporal;
  log: FastifyBaseLogger;
  /** The watch moved on from the run `before` names (its key changed). */
  moved(watch: RunWatch, before: JobView): void;
  /** The watch has ended (closed, lost or left): it follows nothing any more. */
  ended(watch: RunWatch): void;
  /** The whole log of a closed run, to keep for later streams. */
  keep(view: JobView, log: RunLog): void;
}

export class RunWatch implements RunLog {
  run: string;
  started: string;
  frames: string[] = [];
  final: string | undefined;
  lost = false;
  /** Streams of this watch by principal: a principal holds a share of the watches it is on. */
  readonly principals = new Map<string, number>();
  readonly subscribers = new Set<(log: RunLog) => void>();
  private readonly controller = new AbortController();
  private readonly withProgress: boolean;
  private stopFollowing: (() => void) | undefined;
  /** News is handled one at a time, in order. */
  private handling: Promise<void> = Promise.resolve();

  constructor(
    private readonly host: WatchHost,
    public view: JobView,
  ) {
    this.run = runTag(view.runId);
    this.started = startedFrame(this.run, view);
    this.withProgress = progressWorkflowTypes.includes(view.workflowType);
  }

  start(): void {
    this.stopFollowing = this.host.temporal.runs.follow(this.view, this.withProgress ? 'events' : 'close', (news) => {
      this.handling = this.handling.then(() => this.handle(news));
    });
  }

  /** Stops following (its last stream left). */
  stop(): void {
    this.controller.abort();
    this.stopFollowing?.();
  }

  private async handle(news: RunNews): Promise<void> {
    const { signal } = this.controller;
    if (signal.aborted || this.final !== undefined || this.lost) return;
    try {
      if (news.kind === 'lost') throw news.error;
      if (news.kind === 'progressed') {
        if (news.runId === this.view.runId) await this.refreshProgress();
        return;
      }
      // The log as the run closed it (a closed run's query is answered by a worker's replay).
      const complete = !this.withProgress || (await this.refreshProgress());
      if (news.kind === 'continued') return await this.moveTo(news.next);
      const final = await retryWhileUnavailable(signal, async () => {
        const budget = { deadline: Date.now() + 2 * this.host.temporal.requestTimeoutMs, signal };
        const job = await describeJob(this.host.temporal, this.view.jobId, { runId: news.runId, budget });
        if (job === undefined) throw new Error('the job vanished');
        return withOutcome(this.host.temporal, job.view, budget);
      });
      this.final = finalFrames(this.run, final);
      if (complete) {
        const { run, started, frames } = this;
        this.host.keep(this.view, { run, started, frames: [...frames], final: this.final, lost: false });
      }
      this.end();
    } catch (error) {
      if (signal.aborted) return;
      this.host.log.warn({ jobId: this.view.jobId, err: error }, 'a job event stream lost its run');
      this.lost = true;
      this.end();
    }
  }

  /** The job continued as new: the streams go on with the next run's log, from its start. */
  private async moveTo(runId: string): Promise<void> {
    const { signal } = this.controller;
    const job = await retryWhileUnavailable(signal, () =>
      describeJob(this.host.temporal, this.view.jobId, { runId, budget: { signal } }),
    );
    if (job === undefined) throw new Error('the next run vanished');
    const before = this.view;
    this.view = job.view;
    this.run = runTag(runId);
    this.started = startedFrame(this.run, job.view);
    this.frames = [];
    this.host.moved(this, before);
    this.tell();
  }

  private end(): void {
    this.stopFollowing?.();
    this.host.ended(this);
    this.tell();
  }

  private tell(): void {
    for (const update of [...this.subscribers]) update(this);
  }

  /** Asks the workflow for its log and tells the streams what is new; false when it did not answer. */
  private async refreshProgress(): Promise<boolean> {
    const progress = await queryProgress(this.host.temporal, this.view, this.controller.signal, this.host.log);
    if (progress === undefined) return false;
    if (progress.length <= this.frames.length) return true;
    for (let index = this.frames.length; index < progress.length; index += 1)
      this.frames.push(progressFrame(this.run, index, progress[index]!));
    this.tell();
    return true;
  }
}
