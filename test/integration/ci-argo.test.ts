// The Argo-backed pipeline against a real Temporal and worker and a local Argo-compatible server:
// submission from a WorkflowTemplate or an inline manifest with a deterministic name and owner
// labels, phases surfaced in the workflow's status query, Argo answering 503 then recovering, a
// failing Argo workflow, a manifest Argo rejects, and a cancelled job stopping its Argo workflow.
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { argoWorkflowName, createArgoActivities } from '../../activities/argo.js';
import { buildApp } from '../../src/bridge/app.js';
import type { GatehouseConfig } from '../../src/config/load-config.js';
import { startDevIssuer, type DevIssuer } from '../../src/dev/dev-issuer.js';
import { startFakeArgo, type FakeArgo } from '../helpers/fake-argo.js';
import { startFakeGitHosts, type FakeGitHosts } from '../helpers/fake-git-hosts.js';
import {
  pipelines,
  startWorkers,
  testConfig,
  uniqueName,
  testSecrets,
  type RunningWorkers,
  testLogger,
} from '../helpers/harness.js';
import { startGitServer, useGitServer, type GitServer } from '../helpers/git-server.js';

let issuer: DevIssuer;
let argo: FakeArgo;
let hosts: FakeGitHosts;
let config: GatehouseConfig;
let app: FastifyInstance;
let workers: RunningWorkers;
let token: string;
let git: GitServer;
let sha: string;

beforeAll(async () => {
  issuer = await startDevIssuer();
  argo = await startFakeArgo({
    token: testSecrets.TEST_ARGO_TOKEN,
    runMs: 1_500,
    templates: {
      build: { templates: ['main', 'test'] },
      flaky: { templates: ['main'], outcome: 'Failed' },
      slow: { templates: ['main'] },
    },
  });
  hosts = await startFakeGitHosts(testSecrets.TEST_STATUS_TOKEN);
  git = await startGitServer({ 'workflow.yaml': 'kind: Workflow\n' });
  sha = git.sha;
  config = testConfig(issuer, uniqueName('gatehouse-argo'));
  // Argo builds the commit itself; Gatehouse still checks it exists before reporting on it.
  useGitServer(config, git);
  config.ci.statusApis.github = { apiUrl: `${hosts.url}/github`, token: { env: 'TEST_STATUS_TOKEN' } };
  config.ci.argo = { url: argo.url, token: { env: 'TEST_ARGO_TOKEN' }, pollInterval: '1s' };
  config.ci.pipelines = pipelines(
    {
      repositories: ['argo/build'],
      runner: 'argo',
      argo: { namespace: 'ci', workflowTemplate: 'build', entrypoint: 'main' },
    },
    { repositories: ['argo/flaky'], runner: 'argo', argo: { namespace: 'ci', workflowTemplate: 'flaky' } },
    {
      repositories: ['argo/inline'],
      runner: 'argo',
      argo: {
        namespace: 'ci',
        manifest: {
          metadata: { annotations: { 'team.example/owner': 'platform' } },
          spec: {
            entrypoint: 'main',
            arguments: {
              parameters: [
                { name: 'cache', value: 'on' },
                { name: 'revision', value: 'forged' },
              ],
            },
            templates: [{ name: 'main', container: { name: '', image: 'alpine', command: ['true'] } }],
          },
        },
      },
    },
    {
      repositories: ['argo/broken'],
      runner: 'argo',
      argo: {
        namespace: 'ci',
        manifest: {
          spec: { entrypoint: 'missing', templates: [{ name: 'main', container: { name: '', image: 'alpine' } }] },
        },
      },
    },
  );
  app = await buildApp(config, { logger: testLogger() });
  workers = await startWorkers(config);
  token = await issuer.mint({ sub: uniqueName('maint'), groups: ['maintainers'] });
});

afterAll(async () => {
  await workers?.stop();
  await app?.close();
  await hosts?.close();
  await argo?.close();
  await issuer?.close();
});

async function startCi(repository: string): Promise<string> {
  const answer = await app.inject({
    method: 'POST',
    url: '/v1/jobs/ci',
    headers: { authorization: `Bearer ${token}` },
    payload: {
      provider: 'github',
      repository: { fullName: repository },
      after: sha,
    },
  });
  expect(answer.statusCode, answer.body).toBe(202);
  return answer.json().jobId;
}

const read = async (jobId: string) =>
  (await app.inject({ url: `/v1/jobs/${jobId}?wait=5`, headers: { authorization: `Bearer ${token}` } })).json();

describe('Argo-backed pipeline', () => {
  it('submits from a WorkflowTemplate with a deterministic name and owner labels, surfaces the phase, and passes', async () => {
    const jobId = await startCi('argo/build');
    const handle = app.temporal.client.workflow.getHandle(jobId);
    await vi.waitFor(
      async () => {
        const status = await handle.query<Record<string, { phase?: string }>>('status');
        expect(status.argo?.phase).toBe('Running');
      },
      { timeout: 10_000, interval: 200 },
    );
    await vi.waitFor(async () => expect((await read(jobId)).status).toBe('COMPLETED'), {
      timeout: 20_000,
      interval: 500,
    });
    const job = await read(jobId);
    expect(job.result).toMatchObject({
      outcome: 'passed',
      runner: 'argo',
      argo: { name: argoWorkflowName(jobId), phase: 'Succeeded', progress: '2/2' },
    });
    const stored = argo.workflows.get(`ci/${argoWorkflowName(jobId)}`)!;
    expect(stored.labels).toMatchObject({ 'gatehouse.dev/route': 'ci', 'gatehouse.dev/job': jobId });
    expect(stored.labels['gatehouse.dev/owner']).toMatch(/^jwt_http___127\.0\.0\.1_[0-9]+_maint-/);
    expect(hosts.statuses.filter((s) => s.url.endsWith(jobId)).map((s) => s.state)).toEqual(['pending', 'success']);
  });

  it('never submits twice: a retried submission is answered 409 and reads the existing workflow', async () => {
    const activities = createArgoActivities({ url: argo.url, token: { reveal: () => testSecrets.TEST_ARGO_TOKEN } });
    const input = {
      namespace: 'ci',
      jobId: uniqueName('ci.job'),
      route: 'ci',
      owner: 'o',
      repository: 'argo/build',
      sha,
      workflowTemplate: 'build',
    };
    const first = await activities.submitArgoWorkflow(input);
    const again = await activities.submitArgoWorkflow(input);
    expect(again.name).toBe(first.name);
    expect([...argo.workflows.keys()].filter((k) => k === `ci/${first.name}`)).toHaveLength(1);
  });

  it("gives an inline manifest the repository and commit as parameters, keeping the operator's annotations", async () => {
    const jobId = await startCi('argo/inline');
    await vi.waitFor(async () => expect((await read(jobId)).status).toBe('COMPLETED'), {
      timeout: 30_000,
      interval: 500,
    });
    const stored = argo.workflows.get(`ci/${argoWorkflowName(jobId)}`)!;
    expect(stored.parameters).toEqual([
      { name: 'cache', value: 'on' },
      { name: 'repository', value: 'argo/inline' },
      { name: 'revision', value: sha },
    ]);
    expect(stored.annotations).toMatchObject({ 'team.example/owner': 'platform', 'gatehouse.dev/job': jobId });
  });

  it('rides out Argo answering 503 and recovers', async () => {
    argo.failNext(1);
    const jobId = await startCi('argo/inline');
    await vi.waitFor(async () => expect((await read(jobId)).status).toBe('COMPLETED'), {
      timeout: 30_000,
      interval: 500,
    });
  });

  it('fails the job when the Argo workflow fails, and when Argo rejects the manifest (not retried)', async () => {
    const failing = await startCi('argo/flaky');
    await vi.waitFor(async () => expect((await read(failing)).status).toBe('FAILED'), {
      timeout: 20_000,
      interval: 500,
    });
    expect((await read(failing)).failure).toMatchObject({ type: 'PipelineFailed' });
    expect(hosts.statuses.filter((s) => s.url.endsWith(failing)).map((s) => s.state)).toEqual(['pending', 'failure']);

    const broken = await startCi('argo/broken');
    await vi.waitFor(async () => expect((await read(broken)).status).toBe('FAILED'), {
      timeout: 20_000,
      interval: 500,
    });
    expect((await read(broken)).failure).toMatchObject({ type: 'ArgoRejected' });
  });

  it('stops the Argo workflow when the job is cancelled', async () => {
    const jobId = await startCi('argo/build');
    await vi.waitFor(() => expect(argo.workflows.get(`ci/${argoWorkflowName(jobId)}`)?.phase).toBe('Running'), {
      timeout: 10_000,
      interval: 100,
    });
    const cancel = await app.inject({
      method: 'POST',
      url: `/v1/jobs/${jobId}/cancel`,
      headers: { authorization: `Bearer ${token}` },
    });
    expect(cancel.statusCode).toBe(202);
    await vi.waitFor(async () => expect((await read(jobId)).status).toBe('CANCELED'), {
      timeout: 20_000,
      interval: 300,
    });
    expect(argo.workflows.get(`ci/${argoWorkflowName(jobId)}`)?.stopped).toBe(true);
    expect(hosts.statuses.filter((s) => s.url.endsWith(jobId)).map((s) => s.state)).toEqual(['pending', 'error']);
  });
});
