// Who asked for a job and about which request: the memo every Gatehouse workflow carries, and the
// single argument every workflow receives. Types only, so workflows may import this file.

/** The verified caller. Stored in the workflow memo and passed to the activities. */
export interface Identity {
  method: 'jwt' | 'webhook';
  /**
   * The one name of this actor everywhere: search attribute, memo, Cedar principal id, ledger
   * owner, list filter. Built by src/core/principal.ts from immutable ids only.
   */
  principal: string;
  /** The token's `iss`, or `webhook:<instance>` for a webhook sender. */
  issuer: string;
  /** The token's `sub`, or the sender's immutable id at the provider. */
  subject: string;
  name?: string;
  email?: string;
  /** Groups from the token's groups claim; they grant route access, admin and Cedar membership. */
  groups: string[];
  /** Roles from the token's roles claim; kept apart from groups so a role can never pose as one. */
  roles: string[];
  scopes: string[];
  tokenId?: string;
  /** For webhooks: the provider, the configured hook and the sender's login as shown (not trusted). */
  provider?: string;
  hook?: string;
  login?: string;
}

/** What the bridge knew of the HTTP request that started a job; stored in the workflow memo. */
export interface RequestInfo {
  requestId: string;
  route: string;
  receivedAt: string;
  clientAddress: string;
  userAgent?: string;
  idempotencyKey?: string;
  bodySha256: string;
  /** The W3C trace id of the request's trace, when it had one: the job's trace. */
  traceId?: string;
}

/** The memo of every Gatehouse workflow. */
export interface JobMemo {
  identity: Identity;
  request: RequestInfo;
}

/** The single argument every Gatehouse workflow receives: the input plus who asked for it. */
export interface JobRequest<Input = unknown> {
  jobId: string;
  route: string;
  input: Input;
  identity: Identity;
}
