// Reading a job's memo back checks its shape, because a workflow started by someone else (or by
// an older Gatehouse without principals) has no such memo, and such a job is nobody's.
import type { Identity, JobMemo, RequestInfo } from './identity.js';

export function readMemo(memo: Record<string, unknown> | undefined): JobMemo | undefined {
  const identity = memo?.identity as Partial<Identity> | undefined;
  const request = memo?.request as Partial<RequestInfo> | undefined;
  if (typeof identity?.principal !== 'string' || typeof identity.subject !== 'string') return undefined;
  if (typeof request?.route !== 'string' || typeof request.bodySha256 !== 'string') return undefined;
  return { identity: identity as Identity, request: request as RequestInfo };
}
