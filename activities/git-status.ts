// Commit-status reporting through each provider's REST API. One neutral call, four wire shapes:
//   GitHub    POST {api}/repos/{owner}/{repo}/statuses/{sha}         {state, target_url, description, context}
//   Gitea     POST {api}/repos/{owner}/{repo}/statuses/{sha}         the same shape ({api} ends in /api/v1)
//   GitLab    POST {api}/projects/{id}/statuses/{sha}                 {state: pending|running|success|failed|canceled, name, target_url, description}
//   Bitbucket POST {api}/repositories/{ws}/{repo}/commit/{sha}/statuses/build  {key, state: INPROGRESS|SUCCESSFUL|FAILED|STOPPED, name, url, description}
// A 5xx, a 429 or a network error is thrown as retryable; any other 4xx cannot be fixed by
// retrying and fails non-retryably (type StatusReportRejected).
import { ApplicationFailure } from '@temporalio/activity';
import type { GitEvent } from './types.js';

export type CommitState = 'pending' | 'success' | 'failure' | 'error';

export interface StatusReport {
  provider: GitEvent['provider'];
  repository: string;
  sha: string;
  state: CommitState;
  targetUrl: string;
  description: string;
  context: string;
}

export interface StatusApi {
  apiUrl: string;
  token: { reveal(): string };
}

const gitlabStates: Record<CommitState, string> = { pending: 'running', success: 'success', failure: 'failed', error: 'canceled' };
const bitbucketStates: Record<CommitState, string> = { pending: 'INPROGRESS', success: 'SUCCESSFUL', failure: 'FAILED', error: 'STOPPED' };

export function createGitStatusActivities(apis: Partial<Record<GitEvent['provider'], StatusApi>>, fetchTimeoutMs = 10_000) {
  return {
    async reportCommitStatus(report: StatusReport): Promise<{ provider: string; state: CommitState; status: number }> {
      const api = apis[report.provider];
      if (api === undefined) throw ApplicationFailure.nonRetryable(`no status API configured for ${report.provider}`, 'StatusReportUnconfigured');
      const { url, body, headers } = request(report, api);
      let response: Response;
      try {
        response = await fetch(url, {
          method: 'POST', body: JSON.stringify(body), signal: AbortSignal.timeout(fetchTimeoutMs),
          headers: { 'content-type': 'application/json', accept: 'application/json', 'user-agent': 'gatehouse', ...headers },
        });
      } catch (error) {
        throw new Error(`${report.provider} status API unreachable: ${(error as Error).message}`);
      }
      if (response.ok) return { provider: report.provider, state: report.state, status: response.status };
      const text = (await response.text()).slice(0, 300);
      if (response.status >= 500 || response.status === 429) throw new Error(`${report.provider} status API answered ${response.status}: ${text}`);
      throw ApplicationFailure.nonRetryable(`${report.provider} refused the status (${response.status}): ${text}`, 'StatusReportRejected');
    },
  };
}

function request(report: StatusReport, api: StatusApi): { url: string; body: unknown; headers: Record<string, string> } {
  const base = api.apiUrl.replace(/\/+$/, '');
  const [owner, ...rest] = report.repository.split('/');
  const repo = rest.join('/');
  const token = api.token.reveal();
  switch (report.provider) {
    case 'github':
    case 'gitea':
      return {
        url: `${base}/repos/${encodeURIComponent(owner ?? '')}/${encodeURIComponent(repo)}/statuses/${report.sha}`,
        body: { state: report.state, target_url: report.targetUrl, description: report.description.slice(0, 140), context: report.context },
        headers: { authorization: report.provider === 'github' ? `Bearer ${token}` : `token ${token}` },
      };
    case 'gitlab':
      return {
        url: `${base}/projects/${encodeURIComponent(report.repository)}/statuses/${report.sha}`,
        body: { state: gitlabStates[report.state], name: report.context, target_url: report.targetUrl, description: report.description.slice(0, 255) },
        headers: { 'private-token': token },
      };
    case 'bitbucket':
      return {
        url: `${base}/repositories/${encodeURIComponent(owner ?? '')}/${encodeURIComponent(repo)}/commit/${report.sha}/statuses/build`,
        body: { key: report.context, state: bitbucketStates[report.state], name: report.context, url: report.targetUrl, description: report.description.slice(0, 255) },
        headers: { authorization: `Bearer ${token}` },
      };
  }
}
