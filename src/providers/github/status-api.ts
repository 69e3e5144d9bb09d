// GitHub: POST {api}/repos/{owner}/{repo}/statuses/{sha} {state, target_url, description, context}.
import type { StatusReport } from '../../core/commit-status.js';
import type { StatusApiAccess, StatusRequest } from '../provider.js';

export function githubStyleStatusRequest(
  report: StatusReport,
  api: StatusApiAccess,
  authorization: string,
): StatusRequest {
  const [owner, ...rest] = report.repository.split('/');
  return {
    url: `${api.apiUrl.replace(/\/+$/, '')}/repos/${encodeURIComponent(owner ?? '')}/${encodeURIComponent(rest.join('/'))}/statuses/${report.sha}`,
    body: {
      state: report.state,
      target_url: report.targetUrl,
      description: report.description.slice(0, 140),
      context: report.context,
    },
    headers: { authorization },
  };
}

export function githubStatusRequest(report: StatusReport, api: StatusApiAccess): StatusRequest {
  return githubStyleStatusRequest(report, api, `Bearer ${api.token.reveal()}`);
}
