// What a job's event stream says, and how its events are named: pure functions, no I/O.
//
// A run's events are a log that only grows, so every event has a fixed position:
//   0        `status` RUNNING: the job as it started (the same whenever and wherever it is read)
//   1 … n    CI jobs only: entry n-1 of the workflow's progress log (src/core/ci-status.ts),
//            as `phase`, `step` or `argo`
//   end      `status` with the final state (the job as GET /v1/jobs/{jobId} answers it), then an
//            `end` event without an id
// The id of the event at position p is `<run>:<p>` (`<run>:end` for the final state), where `<run>`
// is 10 characters of the SHA-256 of the run id. Ids are derived from Temporal's state alone, so a
// reconnect with Last-Event-ID to any bridge replica re-derives the log and sends exactly what
// comes after it: nothing twice, nothing skipped. An id of another run (the job's id now names a
// newer run) starts that run's log from 0.
import { createHash } from 'node:crypto';
import type { CiProgress } from '../../core/ci-status.js';
import { GatehouseError } from '../errors.js';
import type { JobView } from '../../core/job-view.js';

/** A position in a run's log: a number, or the final state. */
export type EventPosition = number | 'end';

export interface ResumePoint {
  run: string;
  position: EventPosition;
}

/** The largest position an id may name: far beyond any log (maxProgressEntries). */
const maxPosition = 999_999;
const idPattern = /^([A-Za-z0-9_-]{10}):(0|[1-9][0-9]{0,5}|end)$/;

export function runTag(runId: string): string {
  return createHash('sha256').update(runId).digest('base64url').slice(0, 10);
}

export function eventId(run: string, position: EventPosition): string {
  return `${run}:${position}`;
}

/**
 * The point a client resumes after (the Last-Event-ID header), undefined when none was sent. Ids
 * are ours; one that is not (a client bug, or tampering) is a 400 rather than a silent restart.
 */
export function parseLastEventId(header: string | string[] | undefined): ResumePoint | undefined {
  if (header === undefined || header === '') return undefined;
  const match = typeof header === 'string' ? idPattern.exec(header) : null;
  if (match === null) {
    throw new GatehouseError(
      'GATEHOUSE_BAD_REQUEST',
      'Last-Event-ID must be an id this stream sent (<run>:<position> or <run>:end)',
    );
  }
  const position = match[2] === 'end' ? 'end' : Number(match[2]);
  return { run: match[1]!, position: position === 'end' ? 'end' : Math.min(position, maxPosition) };
}

/**
 * One SSE event. JSON escapes CR and LF, so `data` is always one line and an event cannot be split
 * or forged by what a job's result contains.
 */
export function frame(id: string | undefined, event: string, data: unknown): string {
  return `${id === undefined ? '' : `id: ${id}\n`}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

/** Position 0: the job as it started, built only from what never changes. */
export function startedFrame(run: string, view: JobView): string {
  const { jobId, runId, route, workflowType, source, owner, startedAt } = view;
  return frame(eventId(run, 0), 'status', {
    jobId,
    runId,
    route,
    workflowType,
    source,
    owner,
    status: 'RUNNING',
    startedAt,
  });
}

/** Position index + 1: one entry of the progress log, as its own event type. */
export function progressFrame(run: string, index: number, entry: CiProgress): string {
  const { kind, ...data } = entry;
  return frame(eventId(run, index + 1), kind, data);
}

/** The final state, then `end` (no id: a client that reconnects after it resumes after the final state). */
export function finalFrames(run: string, view: JobView): string {
  return frame(eventId(run, 'end'), 'status', view) + frame(undefined, 'end', { status: view.status });
}

/** A comment line: ignored by clients, keeps every hop from timing the stream out as idle. */
export const heartbeatFrame = ': keep-alive\n\n';

/** The reconnection delay a client should use (the SSE `retry` field), with a comment saying why. */
export function retryFrame(delayMs: number, why?: string): string {
  return `retry: ${Math.max(0, Math.round(delayMs))}\n${why === undefined ? '' : `: ${why}\n`}\n`;
}

/** Progress log entries as a workflow answered them, or undefined when the answer is not one. */
export function readProgress(answer: unknown): CiProgress[] | undefined {
  if (typeof answer !== 'object' || answer === null) return undefined;
  const progress = (answer as { progress?: unknown }).progress;
  if (!Array.isArray(progress)) return undefined;
  const kinds = new Set(['phase', 'step', 'argo']);
  return progress.every(
    (entry: unknown) =>
      typeof entry === 'object' && entry !== null && kinds.has(String((entry as { kind?: unknown }).kind)),
  )
    ? (progress as CiProgress[])
    : undefined;
}
