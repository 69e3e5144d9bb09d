// The reconciler is a provider capability: from one config with a GitHub App hook and a GitLab
// project hook, the schedules, the workflow a queue registers and the worker's secrets all come
// from each provider's reconciler (src/providers/<name>/reconciler.ts), with the defaults of the
// provider's own form (GitLab's 7-day lookback) and nothing for a hook without a reconcile block.
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/config/load-config.js';
import { resolveWorkerSecrets } from '../../../src/config/worker-secrets.js';
import { reconcileSchedules } from '../../../src/worker/reconcile-schedules.js';
import { queuePlan } from '../../../src/worker/worker-runtime.js';
import { configScratch, minimalConfig } from '../../helpers/config-files.js';

const { load } = configScratch('gatehouse-reconcile-');
const text = `${minimalConfig().replace('taskQueues: [q1]', 'taskQueues: [q1, gatehouse-reconcile]')}
webhooks:
  github:
    default:
      secrets: [{ env: S }]
      rules: []
      reconcile: { app: { appId: '12', privateKey: { env: APP_KEY } }, every: 10m }
  gitlab:
    default:
      secrets: [{ env: S }]
      rules: []
      reconcile: { project: acme/app, hookId: 4, token: { env: GITLAB_TOKEN }, resend: false }
  gitea:
    default:
      secrets: [{ env: S }]
      rules: []
`;
const secretEnv = { S: 'hook-secret', APP_KEY: 'app-private-key', GITLAB_TOKEN: 'gitlab-api-token' };

describe('the reconciler schedules', () => {
  it("make one schedule per hook with a reconcile block, from its provider's reconciler", () => {
    const config = load(text, { S: 'hook-secret' });
    const schedules = reconcileSchedules(config);
    expect(schedules.map((s) => [s.scheduleId, s.everyMs])).toEqual([
      ['gatehouse-reconcile-github-default', 600_000],
      ['gatehouse-reconcile-gitlab-default', 300_000],
    ]);
    expect(schedules[0]!.input).toEqual({
      provider: 'github',
      hook: 'default',
      scheduleId: 'gatehouse-reconcile-github-default',
      lookbackMs: 6 * 3_600_000,
      maxAttempts: 5,
      comparesWithLog: true,
      watchesHealth: false,
    });
    expect(schedules[1]!.input).toMatchObject({
      provider: 'gitlab',
      lookbackMs: 7 * 86_400_000,
      comparesWithLog: false,
      watchesHealth: true,
      resend: false,
    });
    expect(queuePlan(config, 'gatehouse-reconcile').workflowTypes).toEqual(['reconcileHook']);
  });

  it('registers no reconciler where no hook has a reconcile block', () => {
    const config = load(text.replaceAll(/^ {6}reconcile: .*\n/gm, '').replace('[q1, gatehouse-reconcile]', '[q1]'), {
      S: 'hook-secret',
    });
    expect(reconcileSchedules(config)).toEqual([]);
    expect(queuePlan(config, 'q1').workflowTypes).not.toContain('reconcileHook');
  });

  it("resolves each block's secrets by their path in it, and names a missing one", () => {
    const config = load(text, { S: 'hook-secret' });
    const need = { statusApis: false, argo: false, reconcile: true, callback: false };
    const secrets = resolveWorkerSecrets(config, secretEnv, need).reconcile;
    expect([...secrets.keys()]).toEqual(['github/default', 'gitlab/default']);
    expect(secrets.get('github/default')?.get('app/privateKey')?.reveal()).toBe('app-private-key');
    expect(secrets.get('gitlab/default')?.get('token')?.reveal()).toBe('gitlab-api-token');
    const error = (() => {
      try {
        return resolveWorkerSecrets(config, { S: 'hook-secret' }, need);
      } catch (caught) {
        return caught;
      }
    })();
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toEqual([
      '/webhooks/github/default/reconcile/app/privateKey: environment variable APP_KEY is not set',
      '/webhooks/gitlab/default/reconcile/token: environment variable GITLAB_TOKEN is not set',
    ]);
  });
});
