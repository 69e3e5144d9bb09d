// The CI pipeline against a real Temporal and worker: a push webhook (and a `ci` job) on a local
// Git repository runs through the Cedar gate, the steps, commit-status reporting (to a local
// server that keeps the providers' API shapes) and the usage ledger.
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { buildApp } from '../../src/bridge/app.js';
import { jwtPrincipal } from '../../src/core/principal.js';
import { startDevIssuer, type DevIssuer } from '../../src/dev/dev-issuer.js';
import type { GatehouseConfig } from '../../src/config/load-config.js';
import { startFakeGitHosts, type FakeGitHosts } from '../helpers/fake-git-hosts.js';
import { makeGitRepo } from '../helpers/git-repo.js';
import {
  startWorkers,
  testConfig,
  uniqueName,
  testSecrets,
  type RunningWorkers,
  testLogger,
} from '../helpers/harness.js';
import { deliver, githubDelivery, githubExample } from '../helpers/webhooks.js';
import type { FastifyInstance } from 'fastify';

let issuer: DevIssuer;
let hosts: FakeGitHosts;
let config: GatehouseConfig;
let app: FastifyInstance;
let workers: RunningWorkers;
let admin: string;
const repo = makeGitRepo({
  'build.sh': '#!/bin/sh\nset -e\ntest "$(cat VERSION)" = "1.2.3"\necho built "$(git rev-parse HEAD)"\n',
  VERSION: '1.2.3',
  'slow.sh': '#!/bin/sh\nsleep 60 &\necho $! > "$PID_FILE"\nwait\n',
});

beforeAll(async () => {
  issuer = await startDevIssuer();
  hosts = await startFakeGitHosts(testSecrets.TEST_STATUS_TOKEN);
  config = testConfig(issuer, uniqueName('gatehouse-ci'));
  // A scratch directory of this file's own: another file's killed worker may leave a checkout behind.
  config.ci.scratchDir = mkdtempSync(join(tmpdir(), 'gatehouse-scratch-'));
  for (const provider of ['github', 'gitlab', 'gitea', 'bitbucket'] as const) {
    config.ci.statusApis[provider] = { apiUrl: `${hosts.url}/${provider}`, token: { env: 'TEST_STATUS_TOKEN' } };
  }
  config.ci.pipelines = [
    {
      repositories: ['Codertocat/*', 'acme/*'],
      runner: 'steps',
      steps: [
        { name: 'checkout-is-exact', run: `test "$(git rev-parse HEAD)" = "${repo.sha}"`, timeout: '10m' },
        { name: 'build', run: './build.sh', timeout: '30s' },
      ],
    },
    {
      repositories: ['acme-broken/*'],
      runner: 'steps',
      steps: [
        { name: 'fails', run: 'echo boom >&2; exit 3', timeout: '10m' },
        { name: 'never', run: 'true', timeout: '10m' },
      ],
    },
    { repositories: ['acme-slow/*'], runner: 'steps', steps: [{ name: 'slow', run: './slow.sh', timeout: '10m' }] },
    { repositories: ['acme-long/*'], runner: 'steps', steps: [{ name: 'long', run: 'sleep 600', timeout: '15m' }] },
  ];
  app = await buildApp(config, { logger: testLogger() });
  workers = await startWorkers(config);
  admin = await issuer.mint({ sub: 'ops', groups: ['gatehouse-admins'] });
});

afterAll(async () => {
  await workers?.stop();
  await app?.close();
  await hosts?.close();
  await issuer?.close();
});

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

/** Running, not merely present: a killed orphan stays a zombie where no init process reaps it. */
function isRunning(pid: number): boolean {
  try {
    const state = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0];
    return state !== undefined && state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

async function startCi(token: string, input: Record<string, unknown>) {
  const answer = await app.inject({ method: 'POST', url: '/v1/jobs/ci', payload: input, headers: bearer(token) });
  expect(answer.statusCode, answer.body).toBe(202);
  return answer.json().jobId as string;
}

async function waitJob(jobId: string) {
  return (await app.inject({ url: `/v1/jobs/${jobId}?wait=5`, headers: bearer(admin) })).json();
}

async function usage(owner: string) {
  const answer = await app.inject({
    method: 'POST',
    url: '/v1/jobs/billing-usage',
    headers: bearer(admin),
    payload: { owner, from: '2000-01-01T00:00:00Z', to: '2100-01-01T00:00:00Z' },
  });
  return (await waitJob(answer.json().jobId)).result as {
    totals: Array<{ owner: string; metric: string; quantity: number }>;
  };
}

describe('ciPipeline', () => {
  it('runs a push webhook through policy, the steps at the exact commit, commit statuses and the ledger', async () => {
    const example = githubExample('push', (e) => e.ref === 'refs/heads/master');
    const push = {
      ...example,
      ref: 'refs/heads/main',
      after: repo.sha,
      repository: { ...(example.repository as object), clone_url: repo.path },
    };
    const answer = await deliver(
      app,
      githubDelivery(push, { secret: testSecrets.TEST_GITHUB_SECRET, event: 'push', path: '/v1/webhooks/github/ci' }),
    );
    expect(answer.statusCode).toBe(202);
    const jobId = answer.json().jobId as string;
    const job = await waitJob(jobId);
    expect(job.status, JSON.stringify(job)).toBe('COMPLETED');
    expect(job.result).toMatchObject({
      outcome: 'passed',
      runner: 'steps',
      sha: repo.sha,
      policies: ['maintainers-run-ci'],
      statusErrors: [],
    });
    expect(job.result.steps.steps.map((s: { name: string; exitCode: number }) => [s.name, s.exitCode])).toEqual([
      ['checkout-is-exact', 0],
      ['build', 0],
    ]);
    expect(job.result.steps.steps[1].output).toContain(`built ${repo.sha}`);

    const mine = hosts.statuses.filter((s) => s.url.endsWith(jobId));
    expect(mine.map((s) => [s.provider, s.state])).toEqual([
      ['github', 'pending'],
      ['github', 'success'],
    ]);
    expect(mine[0]).toMatchObject({
      repository: 'Codertocat/Hello-World',
      sha: repo.sha,
      context: 'gatehouse/ci',
      url: `https://gatehouse.test/v1/jobs/${jobId}`,
    });
    expect(readdirSync(config.ci.scratchDir)).toEqual([]);

    const totals = (await usage('webhook:github:21031067')).totals;
    expect(totals.find((t) => t.metric === 'jobs')?.quantity).toBeGreaterThanOrEqual(1);
  });

  it("reports in each provider's own shape", async () => {
    const token = await issuer.mint({ sub: uniqueName('maint'), groups: ['maintainers'] });
    for (const provider of ['gitlab', 'gitea', 'bitbucket'] as const) {
      const jobId = await startCi(token, {
        provider,
        repository: { fullName: 'acme/api', cloneUrl: repo.path },
        after: repo.sha,
      });
      expect((await waitJob(jobId)).status).toBe('COMPLETED');
      const states = hosts.statuses.filter((s) => s.url.endsWith(jobId)).map((s) => s.state);
      expect(states).toEqual(
        { gitlab: ['running', 'success'], gitea: ['pending', 'success'], bitbucket: ['INPROGRESS', 'SUCCESSFUL'] }[
          provider
        ],
      );
    }
  });

  it('keeps reporting while the status API fails, and the job passes once it recovers', async () => {
    const token = await issuer.mint({ sub: uniqueName('maint'), groups: ['maintainers'] });
    hosts.failNext(1);
    const jobId = await startCi(token, {
      provider: 'github',
      repository: { fullName: 'acme/api', cloneUrl: repo.path },
      after: repo.sha,
    });
    await vi.waitFor(async () => expect((await waitJob(jobId)).status).toBe('COMPLETED'), {
      timeout: 30_000,
      interval: 500,
    });
    expect(hosts.statuses.filter((s) => s.url.endsWith(jobId)).map((s) => s.state)).toEqual(['pending', 'success']);
  });

  it('fails with PipelineFailed at the failing step, reports failure and still records usage', async () => {
    const owner = uniqueName('maint');
    const token = await issuer.mint({ sub: owner, groups: ['maintainers'] });
    const jobId = await startCi(token, {
      provider: 'github',
      repository: { fullName: 'acme-broken/x', cloneUrl: repo.path },
      after: repo.sha,
    });
    const job = await waitJob(jobId);
    expect(job.status).toBe('FAILED');
    expect(job.failure).toMatchObject({ type: 'PipelineFailed', message: 'pipeline failed at step fails' });
    expect(hosts.statuses.filter((s) => s.url.endsWith(jobId)).map((s) => s.state)).toEqual(['pending', 'failure']);
    const principal = jwtPrincipal(issuer.issuer, owner);
    expect((await usage(principal)).totals.find((t) => t.metric === 'jobs')).toMatchObject({
      owner: principal,
      quantity: 1,
    });
  });

  it('denies CI to a caller Cedar does not permit: PolicyDenied, no steps, no status', async () => {
    const token = await issuer.mint({ sub: uniqueName('outsider') });
    const jobId = await startCi(token, {
      provider: 'github',
      repository: { fullName: 'acme/api', cloneUrl: repo.path },
      after: repo.sha,
    });
    const job = await waitJob(jobId);
    expect(job.status).toBe('FAILED');
    expect(job.failure).toMatchObject({ type: 'PolicyDenied' });
    expect(hosts.statuses.filter((s) => s.url.endsWith(jobId))).toEqual([]);
  });

  it('cancels a running step: the process tree is killed, the checkout removed, the status reported', async () => {
    const token = await issuer.mint({ sub: uniqueName('maint'), groups: ['maintainers'] });
    const pidFile = join(repo.path, `grandchild-${Date.now()}.pid`);
    process.env.PID_FILE = pidFile;
    const jobId = await startCi(token, {
      provider: 'github',
      repository: { fullName: 'acme-slow/x', cloneUrl: repo.path },
      after: repo.sha,
    });
    await vi.waitFor(() => expect(existsSync(pidFile)).toBe(true), { timeout: 15_000, interval: 100 });
    const grandchild = Number(readFileSync(pidFile, 'utf8'));
    expect(isRunning(grandchild)).toBe(true);
    const cancel = await app.inject({ method: 'POST', url: `/v1/jobs/${jobId}/cancel`, headers: bearer(token) });
    expect(cancel.statusCode).toBe(202);
    await vi.waitFor(async () => expect((await waitJob(jobId)).status).toBe('CANCELED'), {
      timeout: 20_000,
      interval: 500,
    });
    await vi.waitFor(() => expect(isRunning(grandchild)).toBe(false), { timeout: 5_000, interval: 100 });
    expect(readdirSync(config.ci.scratchDir)).toEqual([]);
    expect(hosts.statuses.filter((s) => s.url.endsWith(jobId)).map((s) => s.state)).toEqual(['pending', 'error']);
  });
});

describe('superseded runs', () => {
  it('cancels the older run of the same branch when a newer push arrives, and leaves other branches alone', async () => {
    const token = await issuer.mint({ sub: uniqueName('maint'), groups: ['maintainers'] });
    const input = (branch: string) => ({
      repository: { fullName: 'acme-long/app', cloneUrl: repo.path },
      after: repo.sha,
      branch,
      ref: `refs/heads/${branch}`,
    });
    const older = await startCi(token, input('main'));
    const otherBranch = await startCi(token, input('feature'));
    await vi.waitFor(
      async () => {
        const status = await app.temporal.client.workflow.getHandle(older).query<{ phase: string }>('status');
        expect(status.phase).toBe('running');
      },
      { timeout: 10_000, interval: 200 },
    );
    const newer = await startCi(token, input('main'));
    const t0 = Date.now();
    await vi.waitFor(async () => expect((await waitJob(older)).status).toBe('CANCELED'), {
      timeout: 20_000,
      interval: 300,
    });
    console.info(`superseded run cancelled ${Date.now() - t0} ms after the newer push`);
    const status = await app.temporal.client.workflow.getHandle(newer).query<{ superseded: string[] }>('status');
    expect(status.superseded).toEqual([older]);
    expect((await waitJob(otherBranch)).status).toBe('RUNNING');
    for (const jobId of [newer, otherBranch])
      await app.inject({ method: 'POST', url: `/v1/jobs/${jobId}/cancel`, headers: bearer(token) });
  }, 60_000);
});

describe('billing-usage', () => {
  it('lets an owner read only their own usage', async () => {
    const owner = await issuer.mint({ sub: uniqueName('user') });
    const own = await app.inject({
      method: 'POST',
      url: '/v1/jobs/billing-usage',
      headers: bearer(owner),
      payload: { from: '2000-01-01T00:00:00Z', to: '2100-01-01T00:00:00Z' },
    });
    expect((await waitJob(own.json().jobId)).status).toBe('COMPLETED');
    const other = await app.inject({
      method: 'POST',
      url: '/v1/jobs/billing-usage',
      headers: bearer(owner),
      payload: { owner: '*', from: '2000-01-01T00:00:00Z', to: '2100-01-01T00:00:00Z' },
    });
    const denied = await waitJob(other.json().jobId);
    expect(denied.status).toBe('FAILED');
    expect(denied.failure).toMatchObject({ type: 'BillingAccessDenied' });
  });
});
