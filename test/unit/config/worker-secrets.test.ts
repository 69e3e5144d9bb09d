// The worker's own secrets (status-API and Argo tokens) fail like every other config problem: a
// ConfigError that names the file and each path, before the ledger or a connection is opened.
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../../src/config/load-config.js';
import { activityDeps } from '../../../src/worker-runtime.js';
import { testConfigFile } from '../../helpers/harness.js';

describe('activityDeps', () => {
  it('refuses a status-API token that is not set, naming each path', async () => {
    const config = loadConfig({ GATEHOUSE_CONFIG: testConfigFile, GATEHOUSE_JWT_ISSUER: 'https://idp.test' }, { webhookSecrets: false });
    const error = await activityDeps(config, {}).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toEqual(['github', 'gitlab', 'gitea', 'bitbucket'].map(
      (provider) => `/ci/statusApis/${provider}/token: environment variable TEST_STATUS_TOKEN is not set`,
    ));
  });
});
