// GitLab (gitlab.com and self-managed).
import { gitHttpsUrl, type Provider } from '../provider.js';
import { gitlabStatusRequest } from './status-api.js';
import { gitlabWebhook } from './webhook.js';

export const gitlab: Provider = {
  name: 'gitlab',
  webhook: gitlabWebhook,
  statusRequest: gitlabStatusRequest,
  defaultWebUrl: 'https://gitlab.com',
  cloneUrl: gitHttpsUrl,
};
