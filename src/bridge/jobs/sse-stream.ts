// One client's event stream: where it is in the log of the run it follows, its heartbeat and
// duration timers, and its response. It writes; what it writes is job-events.ts's.
import type { ServerResponse } from 'node:http';
import { heartbeatFrame, retryFrame } from './job-events.js';

/** What a stream sends: the frames of a run's log known so far. */
export interface RunLog {
  /** The run's tag (job-events.ts runTag): when it changes, the job has moved on to a new run. */
  readonly run: string;
  readonly started: string;
  /** Frame i is position i + 1 (progress entry i). */
  readonly frames: readonly string[];
  /** The final state's frames, once the job has closed. */
  readonly final: string | undefined;
  /** The run can no longer be followed (it vanished): streams end, and a reconnect reads it anew. */
  readonly lost: boolean;
}

export interface StreamTimers {
  heartbeatMs: number;
  maxDurationMs: number;
}

/** The delay a client is asked to wait before reconnecting after a network error. */
export const reconnectMs = 2_000;
/** A client this far behind is cut off; it resumes with Last-Event-ID. */
const maxBufferedBytes = 1_048_576;

export class SseStream {
  private done = false;
  private heartbeat: NodeJS.Timeout | undefined;
  private expiry: NodeJS.Timeout | undefined;
  private readonly closers: Array<() => void> = [];

  /** `cursor`: the last position the client has of `run` (-1: none). */
  constructor(
    private readonly res: ServerResponse,
    private run: string,
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

  start(timers: StreamTimers): void {
    this.res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      // no-transform: no proxy may compress or rewrite (and so hold back) the stream.
      'cache-control': 'no-cache, no-transform',
      'x-accel-buffering': 'no',
      'x-request-id': this.requestId,
    });
    this.write(retryFrame(reconnectMs));
    this.heartbeat = setInterval(() => this.write(heartbeatFrame), timers.heartbeatMs);
    this.expiry = setTimeout(
      () => this.close(Math.random() * 1_000, 'stream duration limit reached; reconnect with Last-Event-ID'),
      timers.maxDurationMs,
    );
  }

  /**
   * Sends what the client does not have yet; ends the stream after the final state. A log of
   * another run (the job continued as new) is sent from its start.
   */
  pump(log: RunLog): void {
    if (this.done) return;
    if (log.run !== this.run) {
      this.run = log.run;
      this.cursor = -1;
    }
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
