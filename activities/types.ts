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
  /** For webhooks: the provider and the configured hook that received the delivery. */
  provider?: string;
  hook?: string;
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

/**
 * A Git provider delivery, normalized: small enough for a Temporal payload whatever the raw body's
 * size, and the same shape for GitHub, GitLab, Gitea/Forgejo and Bitbucket.
 */
export interface GitEvent {
  provider: 'github' | 'gitlab' | 'gitea' | 'bitbucket';
  hook: string;
  deliveryId: string;
  /** The provider's own event name, e.g. `push`, `Merge Request Hook`, `repo:push`. */
  event: string;
  kind: 'push' | 'tag' | 'pull_request' | 'comment' | 'other';
  /** Neutral action where there is one: opened, synchronize, closed, merged, reopened, created… */
  action?: string;
  repository: { fullName: string; cloneUrl?: string; htmlUrl?: string };
  ref?: string;
  branch?: string;
  tag?: string;
  before?: string;
  after?: string;
  pullRequest?: { number: number; title?: string; sourceBranch?: string; targetBranch?: string; headSha?: string; url?: string };
  sender: { login: string; id?: string; name?: string };
}
