// How a closed job's failure is reported, by the jobs API and by completion callbacks alike.

export interface JobFailure {
  message: string;
  type?: string;
}

/**
 * The failure a caller can act on: the innermost one with a `type` (an ApplicationFailure thrown
 * by the workflow or by an activity), not the wrappers around it ("Activity task failed").
 */
export function rootFailure(error: Error): JobFailure {
  let typed: JobFailure | undefined;
  let innermost: Error = error;
  for (let current: unknown = error.cause; current instanceof Error; current = current.cause) {
    innermost = current;
    if ('type' in current && typeof current.type === 'string' && current.type !== '')
      typed = { message: current.message, type: current.type };
  }
  return typed ?? { message: innermost.message };
}
