// Bitbucket Cloud.
import { gitHttpsUrl, type Provider } from '../provider.js';
import { bitbucketStatusRequest } from './status-api.js';
import { bitbucketWebhook } from './webhook.js';

export const bitbucket = {
  name: 'bitbucket',
  webhook: bitbucketWebhook,
  statusRequest: bitbucketStatusRequest,
  defaultWebUrl: 'https://bitbucket.org',
  cloneUrl: gitHttpsUrl,
} satisfies Provider;
