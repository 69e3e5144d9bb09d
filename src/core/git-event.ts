// A Git provider delivery, normalized: small enough for a Temporal payload whatever the raw body's
// size, and the same shape for every provider in the registry (src/providers/registry.ts).

export type GitEventKind = 'push' | 'tag' | 'pull_request' | 'comment' | 'other';

export interface GitEvent {
  /** A provider name from the registry: github, gitlab, gitea, bitbucket. */
  provider: string;
  hook: string;
  deliveryId: string;
  /** The provider's own event name, e.g. `push`, `Merge Request Hook`, `repo:push`. */
  event: string;
  kind: GitEventKind;
  /** Neutral action where there is one: opened, synchronize, closed, merged, reopened, created… */
  action?: string;
  repository: { fullName: string; cloneUrl?: string; htmlUrl?: string };
  ref?: string;
  branch?: string;
  tag?: string;
  before?: string;
  after?: string;
  pullRequest?: {
    number: number;
    title?: string;
    sourceBranch?: string;
    targetBranch?: string;
    headSha?: string;
    url?: string;
  };
  /** `id` is the provider's immutable account id; `login` can be renamed and reused. */
  sender: { login: string; id?: string; name?: string };
}

/** What a `ci` job sends; a normalized GitEvent from a webhook has the same fields. */
export type CiEvent = Pick<GitEvent, 'repository'> &
  Partial<Pick<GitEvent, 'provider' | 'hook' | 'ref' | 'branch' | 'after' | 'pullRequest' | 'kind'>>;
