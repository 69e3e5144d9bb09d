// GitLab (gitlab.com and self-managed).
import { gitHttpsUrl, type Provider } from '../provider.js';
import { gitlabReconciler } from './reconciler.js';
import { gitlabStatusRequest } from './status-api.js';
import { gitlabWebhook } from './webhook.js';

export const gitlab = {
  name: 'gitlab',
  webhook: gitlabWebhook,
  statusRequest: gitlabStatusRequest,
  defaultWebUrl: 'https://gitlab.com',
  cloneUrl: gitHttpsUrl,
  reconciler: gitlabReconciler,
} satisfies Provider;
