// The worker's own secrets (status-API and Argo tokens) fail like every other config problem: a
// ConfigError that names the file and each path, before the ledger or a connection is opened; a
// worker whose queues need no status API is not asked for those tokens at all.
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../../src/config/load-config.js';
import { buildActivityDeps } from '../../../src/worker/activity-deps.js';
import { queuePlan } from '../../../src/worker/worker-runtime.js';
import type { ConfigOverlay } from '../../../src/config/overlay.js';
import { testConfigFile, testRoutes } from '../../helpers/gatehouse.js';

/** The test config as a worker loads it, with `overlay` merged in. */
const load = (overlay: ConfigOverlay = {}) =>
  loadConfig(
    { GATEHOUSE_CONFIG: testConfigFile, GATEHOUSE_JWT_ISSUER: 'https://idp.test' },
    { webhookSecrets: false, overlay },
  );

/** Routes that record usage on several queues need a shared ledger: the embedded one is one process's. */
const sharedLedger: ConfigOverlay['ledger'] = { url: { env: 'TEST_LEDGER_URL' } };
/** Every route of the test config on `queue`, except those `except` names, on theirs. */
const routeQueues = (queue: string, except: Record<string, string> = {}): ConfigOverlay['routes'] =>
  Object.fromEntries(testRoutes.map((name) => [name, { taskQueue: except[name] ?? queue }]));

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
    const config = load({
      taskQueues: ['q-policy', 'q-ci'],
      routes: routeQueues('q-policy', { ci: 'q-ci' }),
      ledger: sharedLedger,
    });
    const policy = queuePlan(config, 'q-policy');
    expect(policy.workflowTypes.sort()).toEqual(['billingUsage', 'gitEventPolicy', 'policyCheck']);
    expect([...policy.groups].sort()).toEqual(['billing', 'policy']);
    const ci = queuePlan(config, 'q-ci');
    expect(ci.workflowTypes).toEqual(['ciPipeline']);
    expect([...ci.groups].sort()).toEqual(['argo', 'billing', 'ci', 'commitStatus', 'policy']);
  });

  it('adds deliverCallback and the callback group where callbacks are delivered, and only there', () => {
    const overlay: ConfigOverlay = {
      taskQueues: ['q-policy', 'q-ci', 'q-callbacks'],
      routes: routeQueues('q-policy', { ci: 'q-ci' }),
      ledger: sharedLedger,
      callbacks: {
        receivers: { hooks: { url: 'https://hooks.example.com/**', secret: { env: 'CB_HOOKS' }, routes: ['ci'] } },
      },
    };
    const config = load(overlay);
    // Each job's own queue: every queue with routes, and no other.
    for (const queue of ['q-policy', 'q-ci']) {
      expect(queuePlan(config, queue).workflowTypes, queue).toContain('deliverCallback');
      expect(queuePlan(config, queue).groups.has('callback'), queue).toBe(true);
    }
    expect(queuePlan(config, 'q-callbacks').workflowTypes).toEqual([]);
    // A queue of their own: only there.
    const ownQueue = load({ ...overlay, callbacks: { ...overlay.callbacks, taskQueue: 'q-callbacks' } });
    expect(queuePlan(ownQueue, 'q-callbacks')).toEqual({
      workflowTypes: ['deliverCallback'],
      groups: new Set(['callback']),
    });
    expect(queuePlan(ownQueue, 'q-ci').groups.has('callback')).toBe(false);
  });
});

describe('buildActivityDeps for callbacks', () => {
  it("resolves each receiver's key only for the callback group, and refuses one that is not whsec_", async () => {
    const config = load({
      callbacks: {
        receivers: {
          hooks: {
            url: 'https://hooks.example.com/gatehouse/**',
            secret: { env: 'CB_HOOKS' },
            routes: ['ci'],
            groups: ['maintainers'],
          },
        },
      },
    });
    const error = await buildActivityDeps(config, new Set(['callback']), { CB_HOOKS: 'hunter2' }).catch(
      (e: unknown) => e,
    );
    expect((error as ConfigError).problems).toEqual([
      '/callbacks/receivers/hooks/secret: not a Standard Webhooks secret: whsec_ followed by base64',
    ]);
    const policyOnly = await buildActivityDeps(config, new Set(['policy']), {});
    expect(Object.keys(policyOnly.deps)).toEqual(['policy']);
    await policyOnly.close();
    const secret = `whsec_${Buffer.from('0123456789abcdef0123456789abcdef').toString('base64')}`;
    const built = await buildActivityDeps(config, new Set(['callback']), { CB_HOOKS: secret });
    const deps = built.deps.callback!;
    expect(deps.keys.get('hooks')?.reveal()).toBe(secret);
    const url = 'https://hooks.example.com/gatehouse/x';
    expect(deps.check({ url, receiver: 'hooks', caller: { groups: ['maintainers'] } }, 'ci')).toMatchObject({
      ok: true,
      receiver: 'hooks',
    });
    expect(deps.check({ url, receiver: 'hooks', caller: { groups: [] } }, 'ci').ok).toBe(false);
    expect(deps.check({ url: 'https://other.example.com/x', receiver: 'hooks' }, 'ci').ok).toBe(false);
    expect(deps.retry).toEqual({
      initialIntervalMs: 5_000,
      maximumIntervalMs: 600_000,
      retryForMs: 86_400_000,
      attemptTimeoutMs: 10_000,
    });
    await built.close();
  });
});
