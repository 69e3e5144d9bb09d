// Bitbucket Cloud: POST {api}/repositories/{workspace}/{repo}/commit/{sha}/statuses/build
//   {key, state: INPROGRESS|SUCCESSFUL|FAILED|STOPPED, name, url, description}.
import type { CommitState, StatusReport } from '../../core/commit-status.js';
import type { StatusApiAccess, StatusRequest } from '../provider.js';

const states: Record<CommitState, string> = {
  pending: 'INPROGRESS',
  success: 'SUCCESSFUL',
  failure: 'FAILED',
  error: 'STOPPED',
};

export function bitbucketStatusRequest(report: StatusReport, api: StatusApiAccess): StatusRequest {
  const [workspace, ...rest] = report.repository.split('/');
  return {
    url: `${api.apiUrl.replace(/\/+$/, '')}/repositories/${encodeURIComponent(workspace ?? '')}/${encodeURIComponent(rest.join('/'))}/commit/${report.sha}/statuses/build`,
    body: {
      key: report.context,
      state: states[report.state],
      name: report.context,
      url: report.targetUrl,
      description: report.description.slice(0, 255),
    },
    headers: { authorization: `Bearer ${api.token.reveal()}` },
  };
}
