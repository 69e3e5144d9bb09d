import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../../src/config/load-config.js';
import { configScratch, minimalConfig } from '../../helpers/config-files.js';

const { dir, load } = configScratch('gatehouse-config-');
const valid = minimalConfig();

function problemsOf(text: string, env: Record<string, string> = {}): string[] {
  try {
    load(text, env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toContain(dir);
    return (error as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('fills defaults, including inside each route', () => {
    const config = load(valid);
    expect(config.server.listen).toBe('127.0.0.1:8080');
    expect(config.auth.algorithms).toEqual(['RS256', 'ES256']);
    expect(config.routes['policy-check']?.access.groups).toEqual([]);
    expect(config.routes['policy-check']?.idempotency.required).toBe(false);
  });

  it('lets the documented environment variables override the file', () => {
    const config = load(valid, {
      GATEHOUSE_LISTEN: '0.0.0.0:9999',
      TEMPORAL_ADDRESS: 't:7233',
      TEMPORAL_NAMESPACE: 'ns',
      GATEHOUSE_JWT_ISSUER: 'https://other',
      GATEHOUSE_JWKS_URL: 'https://other/jwks',
      GATEHOUSE_JWT_AUDIENCE: 'aud2',
    });
    expect(config.server.listen).toBe('0.0.0.0:9999');
    expect(config.temporal).toMatchObject({ address: 't:7233', namespace: 'ns' });
    expect(config.auth).toMatchObject({ issuer: 'https://other', jwksUrl: 'https://other/jwks', audience: 'aud2' });
  });

  it('names the file and the path of a missing or wrong value', () => {
    const problems = problemsOf(valid.replace('audience: gatehouse', 'audience: 5'));
    expect(problems.some((p) => p.startsWith('/auth/audience'))).toBe(true);
  });

  it('refuses HMAC and none as JWT algorithms', () => {
    for (const alg of ['HS256', 'none']) {
      const problems = problemsOf(
        valid.replace('audience: gatehouse }', `audience: gatehouse, algorithms: [${alg}] }`),
      );
      expect(problems.some((p) => p.startsWith('/auth/algorithms/0'))).toBe(true);
    }
  });

  it('names the route with an unknown workflow type or task queue', () => {
    expect(problemsOf(valid.replace('workflowType: policyCheck', 'workflowType: nope'))).toEqual([
      expect.stringMatching(/^\/routes\/policy-check\/workflowType: unknown workflow type "nope"/),
    ]);
    expect(problemsOf(valid.replace('taskQueue: q1', 'taskQueue: q2'))).toEqual([
      expect.stringMatching(/^\/routes\/policy-check\/taskQueue: "q2" is not one of \/taskQueues/),
    ]);
  });

  it('refuses a route that nobody could call, and an input schema that does not compile', () => {
    expect(problemsOf(valid.replace('access: { anyAuthenticated: true }', 'access: {}'))[0]).toMatch(
      /\/routes\/policy-check\/access/,
    );
    expect(
      problemsOf(
        valid.replace('input: { type: object }', 'input: { type: object, properties: { a: { type: banana } } }'),
      )[0],
    ).toMatch(/\/routes\/policy-check\/input: not a valid JSON Schema/);
  });

  it('refuses unknown keys, so a typo is not silently ignored', () => {
    expect(problemsOf(`${valid}\nlimts: { maxBodyBytes: 1 }\n`).some((p) => p.includes('limts'))).toBe(true);
  });

  it('reports unparsable YAML, a missing file and a missing policy file', () => {
    expect(problemsOf('routes: [unclosed')[0]).toMatch(/^YAML/);
    expect(() => loadConfig({ GATEHOUSE_CONFIG: join(dir, 'absent.yaml') })).toThrow(/cannot read the file/);
    expect(problemsOf(valid.replace('policies: p.cedar', 'policies: missing.cedar'))[0]).toMatch(
      /^\/policy\/policies: file not found/,
    );
  });

  it('loads the shipped default config, and refuses it while a webhook secret is not set', () => {
    const secrets = {
      GATEHOUSE_GITHUB_WEBHOOK_SECRET: 'a',
      GATEHOUSE_GITLAB_WEBHOOK_TOKEN: 'b',
      GATEHOUSE_GITEA_WEBHOOK_SECRET: 'c',
      GATEHOUSE_BITBUCKET_WEBHOOK_SECRET: 'd',
    };
    const config = loadConfig({ GATEHOUSE_CONFIG: 'config/gatehouse.yaml', ...secrets });
    expect(Object.keys(config.routes)).toEqual(expect.arrayContaining(['policy-check', 'git-event']));
    expect(config.webhookSecrets.get('github/default')?.secrets[0]?.reveal()).toBe('a');
    expect(() =>
      loadConfig({ GATEHOUSE_CONFIG: 'config/gatehouse.yaml', ...secrets, GATEHOUSE_GITEA_WEBHOOK_SECRET: '' }),
    ).toThrow(/\/webhooks\/gitea\/default\/secrets\/0: environment variable GATEHOUSE_GITEA_WEBHOOK_SECRET is not set/);
  });

  it('never shows a resolved secret in JSON or util.inspect', async () => {
    const { inspect } = await import('node:util');
    const withHook = `${valid}\nwebhooks:\n  github:\n    default:\n      secrets: [{ env: S }]\n      rules: [{ route: policy-check }]\n`;
    const config = load(withHook, { S: 'super-secret-value' });
    expect(JSON.stringify([...config.webhookSecrets])).not.toContain('super-secret-value');
    expect(inspect(config.webhookSecrets, { depth: 10 })).not.toContain('super-secret-value');
  });

  it('refuses a webhook rule that names no route, and a hook without secrets', () => {
    const hook = (rules: string, secrets = '[{ env: S }]') =>
      `${valid}\nwebhooks:\n  github:\n    default:\n      secrets: ${secrets}\n      rules: ${rules}\n`;
    expect(() => load(hook('[{ route: nope }]'), { S: 'x' })).toThrow(
      /\/webhooks\/github\/default\/rules\/0\/route: no route named "nope"/,
    );
    expect(() => load(hook('[]', '[]'), { S: 'x' })).toThrow(/\/webhooks\/github\/default\/secrets/);
  });

  it('checks each reconcile block against its provider and the reconciler queue', () => {
    const hook = (provider: string, reconcile: string, queues = '[q1]') =>
      `${valid.replace('taskQueues: [q1]', `taskQueues: ${queues}`)}\nwebhooks:\n  ${provider}:\n    default:\n      secrets: [{ env: S }]\n      rules: []\n      reconcile: ${reconcile}\n`;
    const problems = (text: string) => problemsOf(text, { S: 'x' });
    const good = `{ repository: acme/app, hookId: 7, token: { env: T } }`;
    expect(problems(hook('github', good))).toEqual([
      '/webhooks/reconciler/taskQueue: "gatehouse-reconcile" is not one of /taskQueues (q1); hooks with reconcile need a worker there',
    ]);
    const loaded = load(hook('github', good, '[q1, gatehouse-reconcile]'), { S: 'x' });
    expect(loaded.webhooks.github?.default?.reconcile).toMatchObject({ every: '5m', lookback: '6h', maxAttempts: 5 });
    const withQueue = (provider: string, reconcile: string) => hook(provider, reconcile, '[q1, gatehouse-reconcile]');
    expect(
      problems(withQueue('github', '{ repository: acme/app, organization: acme, hookId: 7, token: { env: T } }')),
    ).toEqual(['/webhooks/github/default/reconcile: name exactly one of repository, organization or app (found 2)']);
    expect(problems(withQueue('github', '{ organization: acme }'))).toEqual([
      '/webhooks/github/default/reconcile: a repository or organization hook needs hookId and token',
    ]);
    expect(
      problems(withQueue('github', `{ repository: acme/app, hookId: 7, token: { env: T }, lookback: 4d }`)),
    ).toEqual(['/webhooks/github/default/reconcile/lookback: at most 3d (github keeps deliveries that long)']);
    expect(problems(withQueue('gitea', '{ project: acme/app, hookId: 7, token: { env: T } }'))).toEqual([
      '/webhooks/gitea/default/reconcile: gitea has no API to find missed deliveries with',
    ]);
    expect(problems(withQueue('gitlab', good))).toEqual([
      '/webhooks/gitlab/default/reconcile: a GitLab hook names project, hookId and token',
    ]);
  });

  it('keeps the embedded ledger to one task queue, unless a PostgreSQL ledger is configured', () => {
    const twoQueues = `${valid.replace('taskQueues: [q1]', 'taskQueues: [q1, q2]')}
  usage:
    workflowType: billingUsage
    taskQueue: q1
    access: { anyAuthenticated: true }
    input: { type: object }
  ci:
    workflowType: ciPipeline
    taskQueue: q2
    access: { anyAuthenticated: true }
    input: { type: object }
`;
    expect(problemsOf(twoQueues)).toEqual([
      '/ledger: the embedded ledger belongs to one worker process, but routes that use it are on several task queues (usage on q1, ci on q2); put them on one queue or set ledger.url',
    ]);
    expect(() => load(`${twoQueues}ledger: { url: { env: L } }\n`, { L: 'postgres://x' })).not.toThrow();
    expect(() => load(twoQueues.replace('taskQueue: q2', 'taskQueue: q1'))).not.toThrow();
  });
});
