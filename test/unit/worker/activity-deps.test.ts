// The worker's own secrets (status-API and Argo tokens) fail like every other config problem: a
// ConfigError that names the file and each path, before the ledger or a connection is opened; a
// worker whose queues need no status API is not asked for those tokens at all.
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../../src/config/load-config.js';
import { buildActivityDeps } from '../../../src/worker/activity-deps.js';
import { queuePlan } from '../../../src/worker/worker-runtime.js';
import { testConfigFile } from '../../helpers/harness.js';

const load = () =>
  loadConfig({ GATEHOUSE_CONFIG: testConfigFile, GATEHOUSE_JWT_ISSUER: 'https://idp.test' }, { webhookSecrets: false });

describe('buildActivityDeps', () => {
  it('refuses a status-API token that is not set, naming each path', async () => {
    const error = await buildActivityDeps(load(), new Set(['commitStatus']), {}).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toEqual(
      ['github', 'gitlab', 'gitea', 'bitbucket'].map(
        (provider) => `/ci/statusApis/${provider}/token: environment variable TEST_STATUS_TOKEN is not set`,
      ),
    );
  });

  it('builds a policy-only worker without any token, and without a ledger', async () => {
    const built = await buildActivityDeps(load(), new Set(['policy']), {});
    expect(Object.keys(built.deps)).toEqual(['policy']);
    await built.close();
  });
});

describe('queuePlan', () => {
  it('registers on a queue only the workflows of its routes and the activity groups they call', () => {
    const config = load();
    config.routes['policy-check']!.taskQueue = 'q-policy';
    config.routes.ci!.taskQueue = 'q-ci';
    for (const name of ['billing-usage', 'git-event', 'deploy-check']) config.routes[name]!.taskQueue = 'q-policy';
    const policy = queuePlan(config, 'q-policy');
    expect(policy.workflowTypes.sort()).toEqual(['billingUsage', 'gitEventPolicy', 'policyCheck']);
    expect([...policy.groups].sort()).toEqual(['billing', 'policy']);
    const ci = queuePlan(config, 'q-ci');
    expect(ci.workflowTypes).toEqual(['ciPipeline']);
    expect([...ci.groups].sort()).toEqual(['argo', 'billing', 'ci', 'commitStatus', 'policy']);
  });
});
