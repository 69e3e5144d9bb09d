// Gitea and Forgejo (self-hosted; Codeberg is a Forgejo instance).
import { gitHttpsUrl, type Provider } from '../provider.js';
import { giteaStatusRequest } from './status-api.js';
import { giteaWebhook } from './webhook.js';

export const gitea = {
  name: 'gitea',
  webhook: giteaWebhook,
  statusRequest: giteaStatusRequest,
  defaultWebUrl: 'https://codeberg.org',
  cloneUrl: gitHttpsUrl,
} satisfies Provider;
