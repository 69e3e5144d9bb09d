// The CI pipeline's status, as its `status` query answers it: where the run is now (`phase`), and
// `progress`, an append-only log of what happened (phase changes, steps started and finished, Argo
// progress), each entry stamped with the workflow's own clock. Append-only is what makes the job's
// event stream exact: entry n is the same entry whoever reads it and whenever, on any bridge, so an
// event id can simply be a position in this log (src/bridge/jobs/job-events.ts).
//
// Steps report themselves: the steps activity signals its workflow when a step starts and when it
// ends (best effort: a signal that cannot be sent costs liveness, not the log), and the workflow
// records every step of the activity's outcome that no signal reported, before it moves on. So the
// log always holds each finished step once, in order, before the phase that follows.
// Pure and deterministic: the workflow imports it.

/** The workflow's query: the whole CiStatus. */
export const ciStatusQueryName = 'status';
/** The steps activity → its workflow: a step started or ended (CiStepReport). */
export const ciStepSignalName = 'ciStep';
/** Workflow types whose `status` query answers a CiStatus (the event stream reads their progress). */
export const progressWorkflowTypes: readonly string[] = ['ciPipeline'];

export type CiPhase = 'planning' | 'checking out' | 'running' | 'passed' | 'failed' | 'cancelled';

/** One step starting or ending, as the steps activity reports it (never its output). */
export interface CiStepReport {
  /** The step's position in the pipeline, from 0. */
  index: number;
  name: string;
  state: 'started' | 'passed' | 'failed';
  /** Which attempt of the steps activity ran it (a retry after a worker crash resumes after the finished steps). */
  attempt?: number;
  exitCode?: number | null;
  signal?: string | null;
  timedOut?: boolean;
  durationMs?: number;
}

/** What an Argo Workflow reported, when it changed. */
export interface CiArgoReport {
  name: string;
  /** The Argo namespace it runs in (for a link to it in the Argo UI). */
  namespace?: string;
  phase: string;
  progress?: string;
  message?: string;
}

export type CiProgress =
  | { kind: 'phase'; phase: CiPhase; at: string }
  | ({ kind: 'step'; at: string } & CiStepReport)
  | ({ kind: 'argo'; at: string } & CiArgoReport);

export interface CiStatus {
  phase: CiPhase;
  repository: string;
  sha?: string;
  /** The steps pipeline's step names, once it runs. */
  steps?: string[];
  superseded?: string[];
  /** The Argo Workflow as last read. */
  argo?: CiArgoReport & Record<string, unknown>;
  progress: CiProgress[];
}

/**
 * At most this many log entries: a pipeline's phases, two entries per step per attempt and Argo's
 * distinct (phase, progress) pairs stay far below it; it bounds the query's answer whatever happens.
 */
export const maxProgressEntries = 2_000;

function append(status: CiStatus, entry: CiProgress): void {
  if (status.progress.length < maxProgressEntries) status.progress.push(entry);
}

export function newCiStatus(repository: string, sha: string | undefined, at: string): CiStatus {
  const status: CiStatus = { phase: 'planning', repository, progress: [] };
  if (sha !== undefined) status.sha = sha;
  append(status, { kind: 'phase', phase: 'planning', at });
  return status;
}

/** Moves to `phase` and logs it; the same phase again is no change. */
export function enterPhase(status: CiStatus, phase: CiPhase, at: string): void {
  if (status.phase === phase) return;
  status.phase = phase;
  append(status, { kind: 'phase', phase, at });
}

/**
 * Logs a step report unless the log already has it: a step ends once, and starts once per attempt.
 * A report that comes after the run has left the `running` phase (a late signal) is not logged:
 * the outcome has already recorded what it says.
 */
export function recordStep(status: CiStatus, report: CiStepReport, at: string): boolean {
  if (status.phase !== 'running' || !plausibleReport(status, report)) return false;
  const seen = status.progress.some(
    (entry) =>
      entry.kind === 'step' &&
      entry.index === report.index &&
      (report.state === 'started'
        ? entry.state === 'started' && entry.attempt === report.attempt
        : entry.state !== 'started'),
  );
  if (seen) return false;
  append(status, { kind: 'step', at, ...stepFields(report) });
  return true;
}

/**
 * A signal can come from anything that may signal the workflow: only a report about a step of
 * this pipeline, by its position and name, with a known state and sane fields, is logged.
 */
function plausibleReport(status: CiStatus, report: CiStepReport): boolean {
  const steps = status.steps ?? [];
  return (
    typeof report === 'object' &&
    report !== null &&
    Number.isInteger(report.index) &&
    report.index >= 0 &&
    report.index < steps.length &&
    steps[report.index] === report.name &&
    (report.state === 'started' || report.state === 'passed' || report.state === 'failed') &&
    (report.attempt === undefined ||
      (Number.isInteger(report.attempt) && report.attempt >= 1 && report.attempt < 1_000))
  );
}

/** Only the report's own fields, whatever else a signal carried. */
function stepFields(report: CiStepReport): CiStepReport {
  return {
    index: report.index,
    name: report.name,
    state: report.state,
    ...(report.attempt === undefined ? {} : { attempt: report.attempt }),
    ...(report.exitCode === undefined ? {} : { exitCode: report.exitCode }),
    ...(report.signal === undefined ? {} : { signal: report.signal }),
    ...(report.timedOut === undefined ? {} : { timedOut: report.timedOut }),
    ...(report.durationMs === undefined ? {} : { durationMs: report.durationMs }),
  };
}

/** Keeps the Argo Workflow as read, and logs it when its phase, progress or message changed. */
export function recordArgo(status: CiStatus, argo: CiArgoReport & Record<string, unknown>, at: string): void {
  status.argo = argo;
  const last = status.progress.findLast((entry) => entry.kind === 'argo');
  if (
    last !== undefined &&
    last.name === argo.name &&
    last.phase === argo.phase &&
    last.progress === argo.progress &&
    last.message === argo.message
  )
    return;
  append(status, {
    kind: 'argo',
    at,
    name: argo.name,
    ...(argo.namespace === undefined ? {} : { namespace: argo.namespace }),
    phase: argo.phase,
    ...(argo.progress === undefined ? {} : { progress: argo.progress }),
    ...(argo.message === undefined ? {} : { message: argo.message }),
  });
}
