// GitLab: POST {api}/projects/{url-encoded path}/statuses/{sha}
//   {state: running|success|failed|canceled, name, target_url, description}, PRIVATE-TOKEN header.
import type { CommitState, StatusReport } from '../../core/commit-status.js';
import type { StatusApiAccess, StatusRequest } from '../provider.js';

const states: Record<CommitState, string> = {
  pending: 'running',
  success: 'success',
  failure: 'failed',
  error: 'canceled',
};

export function gitlabStatusRequest(report: StatusReport, api: StatusApiAccess): StatusRequest {
  return {
    url: `${api.apiUrl.replace(/\/+$/, '')}/projects/${encodeURIComponent(report.repository)}/statuses/${report.sha}`,
    body: {
      state: states[report.state],
      name: report.context,
      target_url: report.targetUrl,
      description: report.description.slice(0, 255),
    },
    headers: { 'private-token': api.token.reveal() },
  };
}
