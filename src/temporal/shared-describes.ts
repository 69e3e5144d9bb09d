// Describes that many readers of one job share: while a describe of a job is in flight, another
// reader of the same job waits for that answer instead of asking Temporal again, so a herd of
// ?wait readers (a dashboard, a CI system polling one job) costs one describe, not one each.
// Only readers that tolerate an answer begun a moment before they asked use it: a reader that
// must see its own change (a cancel, then a read) describes on its own.
import type { CallBudget, TemporalGateway } from './gateway.js';
import { describeJob, type DescribedJob } from './describe-job.js';
import { TemporalUnavailable } from './unavailable.js';

export class SharedDescribes {
  readonly #inFlight = new Map<string, { answer: Promise<DescribedJob | undefined>; startedAt: number }>();

  constructor(private readonly temporal: TemporalGateway) {}

  /**
   * The job's latest run as described by the call in flight, or by a new one; a call begun before
   * `notBefore` (epoch ms: a reader woken by the run's close must not get an answer from before it)
   * is not joined. The shared call has the gateway's own request timeout and no reader's signal:
   * one reader leaving or running out of time ends only its own wait for it.
   */
  describe(jobId: string, budget: CallBudget = {}, notBefore = 0): Promise<DescribedJob | undefined> {
    let shared = this.#inFlight.get(jobId);
    if (shared === undefined || shared.startedAt < notBefore) {
      const call = { answer: describeJob(this.temporal, jobId), startedAt: Date.now() };
      call.answer
        .finally(() => {
          if (this.#inFlight.get(jobId) === call) this.#inFlight.delete(jobId);
        })
        // Every reader may have left before it answers; its failure is then nobody's to report.
        .catch(() => undefined);
      this.#inFlight.set(jobId, call);
      shared = call;
    }
    return withinBudget(shared.answer, budget);
  }

  /** Describes in flight now (for tests and the waiters gauge's neighbours). */
  get inFlight(): number {
    return this.#inFlight.size;
  }
}

/** The shared answer, or TemporalUnavailable once this reader's deadline passes or its signal aborts. */
function withinBudget<T>(shared: Promise<T>, budget: CallBudget): Promise<T> {
  const { deadline, signal } = budget;
  if (deadline === undefined && signal === undefined) return shared;
  return new Promise<T>((resolve, reject) => {
    const giveUp = () => {
      done();
      reject(
        new TemporalUnavailable(
          signal?.aborted === true ? 'the read was cancelled' : 'no answer from Temporal in time',
        ),
      );
    };
    // A plain timer, not AbortSignal.timeout: see waitForJob in src/bridge/jobs/read-job.ts.
    const timer = deadline === undefined ? undefined : setTimeout(giveUp, Math.max(0, deadline - Date.now()));
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', giveUp);
    };
    if (signal?.aborted === true) return giveUp();
    signal?.addEventListener('abort', giveUp, { once: true });
    shared.then(
      (value) => {
        done();
        resolve(value);
      },
      (error: unknown) => {
        done();
        reject(error as Error);
      },
    );
  });
}
