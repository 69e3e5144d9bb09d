// The memo every Gatehouse workflow carries (DESIGN.md §4): who asked, and about which request.
// Reading it back checks its shape, because a workflow started by someone else has no such memo.
import type { Identity, RequestInfo } from '../../activities/types.js';

export interface JobMemo {
  identity: Identity;
  request: RequestInfo;
}

export function readMemo(memo: Record<string, unknown> | undefined): JobMemo | undefined {
  const identity = memo?.identity as Partial<Identity> | undefined;
  const request = memo?.request as Partial<RequestInfo> | undefined;
  if (typeof identity?.subject !== 'string' || typeof identity.issuer !== 'string') return undefined;
  if (typeof request?.route !== 'string' || typeof request.bodySha256 !== 'string') return undefined;
  return { identity: identity as Identity, request: request as RequestInfo };
}
