// A commit status in neutral terms; each provider's status API spells it its own way
// (src/providers/<name>/status-api.ts).

export type CommitState = 'pending' | 'success' | 'failure' | 'error';

export interface StatusReport {
  provider: string;
  repository: string;
  sha: string;
  state: CommitState;
  targetUrl: string;
  description: string;
  context: string;
}
