// Gitea and Forgejo copy GitHub's status API ({api} ends in /api/v1), with a `token` scheme.
import type { StatusReport } from '../../core/commit-status.js';
import { githubStyleStatusRequest } from '../github/status-api.js';
import type { StatusApiAccess, StatusRequest } from '../provider.js';

export function giteaStatusRequest(report: StatusReport, api: StatusApiAccess): StatusRequest {
  return githubStyleStatusRequest(report, api, `token ${api.token.reveal()}`);
}
