// What the command reports when something goes wrong: a problem with a code, a title and a
// detail, like the API's own problem+json answers, and the exit code it means. Never a stack.

/** Exit codes: how a job ended, or why the command could not say. */
export const exitCodes = {
  ok: 0,
  /** The job failed, was terminated or timed out. */
  jobFailed: 1,
  /** Bad arguments or a bad config file. */
  usage: 2,
  jobCanceled: 3,
  /** The API answered with a problem (refused, not found, invalid input...). */
  refused: 4,
  /** The edge could not be reached, or answered something that is not the API. */
  unreachable: 5,
  /** No usable credentials: sign in again. */
  signedOut: 6,
} as const;

export class CliError extends Error {
  constructor(
    readonly code: string,
    readonly title: string,
    readonly detail: string,
    readonly exitCode: number = exitCodes.usage,
    readonly status?: number,
    readonly requestId?: string,
  ) {
    super(`${code}: ${title}: ${detail}`);
  }
}

/** The exit code of a job that closed with this status. */
export function jobExitCode(status: string): number {
  if (status === 'COMPLETED') return exitCodes.ok;
  if (status === 'CANCELED') return exitCodes.jobCanceled;
  return exitCodes.jobFailed;
}
