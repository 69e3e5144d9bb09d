// Types shared by the bridge, the workflows and the activities. Workflows may import this file
// (types only), so it holds no values.

/** The verified caller: who asked for a job. Stored in the workflow memo and passed to activities. */
export interface Identity {
  method: 'jwt' | 'webhook';
  issuer: string;
  subject: string;
  name?: string;
  email?: string;
  groups: string[];
  scopes: string[];
  tokenId?: string;
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
}

/** The single argument every Gatehouse workflow receives: the input plus who asked for it. */
export interface JobRequest<Input = unknown> {
  jobId: string;
  route: string;
  input: Input;
  identity: Identity;
}
