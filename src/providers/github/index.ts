// GitHub (github.com, GitHub Enterprise Server, GitHub Apps).
import { gitHttpsUrl, type Provider } from '../provider.js';
import { githubReconciler } from './reconciler.js';
import { githubStatusRequest } from './status-api.js';
import { githubWebhook } from './webhook.js';

export const github = {
  name: 'github',
  webhook: githubWebhook,
  statusRequest: githubStatusRequest,
  defaultWebUrl: 'https://github.com',
  cloneUrl: gitHttpsUrl,
  reconciler: githubReconciler,
} satisfies Provider;
