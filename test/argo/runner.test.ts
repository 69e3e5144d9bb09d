// The workers' Argo runner (activities/argo.ts) against a real Argo: CI jobs started through the
// real edge, run by a real worker on the shared Temporal dev server, submitted through the edge's
// `argo` frontend to two real Argo servers in `--auth-mode=client` with the token of a
// ServiceAccount that has only deploy/argo/worker-rbac.yaml's rights. Submission from a
// WorkflowTemplate and from an inline manifest, what Argo stores (labels, annotations,
// parameters), success and failure as Argo reports them, a manifest Argo refuses, a token Argo
// refuses, cancellation stopping the Argo Workflow, retried submits, and an outage of both
// Argo servers that the job rides out.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { argoWorkflowName, createArgoActivities, labelValue } from '../../activities/argo.js';
import type { ConfigOverlay } from '../../src/config/overlay.js';
import type { ArgoBed } from '../../src/dev/argo-bed/argo-bed.js';
import { jwtPrincipal } from '../../src/core/principal.js';
import { argoFrontend, getWorkflow, listWorkflows, startTestArgoBed } from '../helpers/argo-bed.js';
import { send, startEdgeHarness, type EdgeHarness } from '../helpers/edge.js';
import { fakeStatusApis, startFakeGitHosts, type FakeGitHosts } from '../helpers/fake-git-hosts.js';
import { gitServerOverlay, startGitServer, type GitServer } from '../helpers/git-server.js';
import { testSecrets, uniqueName } from '../helpers/gatehouse.js';

const namespace = 'ci';
type PipelineOverlay = NonNullable<NonNullable<ConfigOverlay['ci']>['pipelines']>[number];
type ArgoSettings = Omit<NonNullable<PipelineOverlay['argo']>, 'namespace'>;
let bed: ArgoBed;
let h: EdgeHarness;
let hosts: FakeGitHosts;
let git: GitServer;
let frontendUrl: string;
let workerToken: string;
let user: { sub: string; token: string };

beforeAll(async () => {
  bed = await startTestArgoBed({ authModes: ['client'], namespaces: [namespace] });
  await bed.kubectl(['-n', namespace, 'apply', '--server-side', '-f', 'deploy/argo/worker-rbac.yaml']);
  await bed.kubectl(['-n', namespace, 'apply', '--server-side', '-f', 'test/fixtures/argo/templates.yaml']);
  workerToken = await bed.createToken(namespace, 'gatehouse-worker');
  const tokenFile = join(bed.dir, 'worker-argo-token');
  writeFileSync(tokenFile, workerToken, { mode: 0o600 });

  hosts = await startFakeGitHosts(testSecrets.TEST_STATUS_TOKEN);
  git = await startGitServer({ 'workflow.yaml': 'kind: Workflow\n' });
  const frontend = await argoFrontend();
  frontendUrl = frontend.url;
  const argo = (repository: string, settings: ArgoSettings): PipelineOverlay => ({
    repositories: [repository],
    runner: 'argo',
    argo: { namespace, ...settings },
  });
  h = await startEdgeHarness(
    { EDGE_ARGO_BIND: frontend.bind, EDGE_ARGO_1: bed.servers[0]!.address, EDGE_ARGO_2: bed.servers[1]!.address },
    {
      overlay: {
        ci: {
          // Argo builds the commit itself; Gatehouse still checks it exists before reporting on it.
          ...gitServerOverlay(git).ci,
          statusApis: fakeStatusApis(hosts, ['github']),
          argo: { url: frontend.url, token: { file: tokenFile }, pollInterval: '1s', requestTimeout: '30s' },
          pipelines: [
            argo('argo/build', { workflowTemplate: 'build', entrypoint: 'main' }),
            argo('argo/flaky', { workflowTemplate: 'flaky' }),
            argo('argo/slow', { workflowTemplate: 'slow' }),
            argo('argo/inline', {
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
                  templates: [{ name: 'main', container: { name: '', image: 'alpine:3', command: ['true'] } }],
                },
              },
            }),
            argo('argo/broken', {
              manifest: {
                spec: {
                  entrypoint: 'missing',
                  templates: [{ name: 'main', container: { name: '', image: 'alpine:3' } }],
                },
              },
            }),
          ],
        },
      },
    },
  );
  const sub = uniqueName('maint');
  user = { sub, token: await h.issuer.mint({ sub, groups: ['maintainers'] }) };
}, 300_000);

afterAll(async () => {
  await h?.close();
  await hosts?.close();
  await git?.close();
  await bed?.stop();
});

const json = { 'content-type': 'application/json' };

async function startCi(repository: string): Promise<string> {
  const answer = await send(h.base, {
    method: 'POST',
    path: '/v1/jobs/ci',
    headers: { ...json, authorization: `Bearer ${user.token}` },
    body: JSON.stringify({ provider: 'github', repository: { fullName: repository }, after: git.sha }),
  });
  expect(answer.status, answer.body).toBe(202);
  return answer.json<{ jobId: string }>().jobId;
}

/** A job as the API shows it. */
interface JobView {
  status: string;
  result?: Record<string, unknown>;
  failure?: { type?: string; message: string };
}

async function readJob(jobId: string): Promise<JobView> {
  const answer = await send(h.base, {
    path: `/v1/jobs/${jobId}?wait=5`,
    headers: { authorization: `Bearer ${user.token}` },
  });
  return answer.json<JobView>();
}

async function jobClosed(jobId: string, status: string, timeout = 60_000): Promise<JobView> {
  let job: JobView = { status: '' };
  await vi.waitFor(
    async () => {
      job = await readJob(jobId);
      expect(job.status).toBe(status);
    },
    { timeout, interval: 300 },
  );
  return job;
}

const statesFor = (jobId: string) => hosts.statuses.filter((s) => s.url.endsWith(jobId)).map((s) => s.state);

describe('the Argo runner against a real Argo', () => {
  it('submits from a WorkflowTemplate through the edge, reports the phase while it runs, and passes when Argo says Succeeded', async () => {
    const jobId = await startCi('argo/build');
    const name = argoWorkflowName(jobId);
    const handle = h.bridges[0].app.temporal.client.workflow.getHandle(jobId);
    await vi.waitFor(
      async () => {
        const status = await handle.query<Record<string, { phase?: string }>>('status');
        expect(status.argo?.phase).toBe('Running');
      },
      { timeout: 30_000, interval: 200 },
    );
    const job = await jobClosed(jobId, 'COMPLETED');
    expect(job.result).toMatchObject({
      outcome: 'passed',
      runner: 'argo',
      argo: { name, phase: 'Succeeded', progress: '2/2' },
    });
    expect(statesFor(jobId)).toEqual(['pending', 'success']);

    // What Argo stored: the owner, route and job as labels, the repository and commit as the
    // template's parameters, and the template it came from.
    const stored = await getWorkflow(bed, namespace, name);
    expect(stored.metadata.labels).toMatchObject({
      'gatehouse.dev/owner': labelValue(jwtPrincipal(h.issuer.issuer, user.sub)),
      'gatehouse.dev/route': 'ci',
      'gatehouse.dev/job': labelValue(jobId),
    });
    expect(stored.spec.workflowTemplateRef).toEqual({ name: 'build' });
    expect(stored.spec.arguments?.parameters).toEqual([
      { name: 'repository', value: 'argo/build' },
      { name: 'revision', value: git.sha },
    ]);
  });

  it("gives an inline manifest the repository and commit as parameters and the owner and job as annotations, keeping the operator's own", async () => {
    const jobId = await startCi('argo/inline');
    const job = await jobClosed(jobId, 'COMPLETED');
    expect(job.result).toMatchObject({ argo: { phase: 'Succeeded' } });
    const stored = await getWorkflow(bed, namespace, argoWorkflowName(jobId));
    expect(stored.spec.arguments?.parameters).toEqual([
      { name: 'cache', value: 'on' },
      { name: 'repository', value: 'argo/inline' },
      { name: 'revision', value: git.sha },
    ]);
    expect(stored.metadata.annotations).toMatchObject({
      'team.example/owner': 'platform',
      'gatehouse.dev/owner': jwtPrincipal(h.issuer.issuer, user.sub),
      'gatehouse.dev/job': jobId,
    });
    expect(stored.metadata.labels).toMatchObject({
      'gatehouse.dev/route': 'ci',
      'gatehouse.dev/job': labelValue(jobId),
    });
  });

  it("fails the job with Argo's message when a step fails, and reports failure", async () => {
    const jobId = await startCi('argo/flaky');
    const job = await jobClosed(jobId, 'FAILED');
    const stored = await getWorkflow(bed, namespace, argoWorkflowName(jobId));
    expect(stored.status?.phase).toBe('Failed');
    expect(stored.status?.message).toMatch(/exit code 3/);
    expect(job.failure).toEqual({
      type: 'PipelineFailed',
      message: `pipeline failed: Argo Workflow ${argoWorkflowName(jobId)} Failed: ${stored.status?.message}`,
    });
    expect(statesFor(jobId)).toEqual(['pending', 'failure']);
  });

  it('fails the job at once, without retrying, when Argo refuses the manifest', async () => {
    const jobId = await startCi('argo/broken');
    const job = await jobClosed(jobId, 'FAILED');
    expect(job.failure?.type).toBe('ArgoRejected');
    expect(job.failure?.message).toMatch(/Argo answered 400 \(code 3\).*missing/);
    expect(await listWorkflows(bed, namespace, `gatehouse.dev/job=${labelValue(jobId)}`)).toEqual([]);
  });

  it('stops the Argo Workflow when the job is cancelled, and reports error', async () => {
    const jobId = await startCi('argo/slow');
    const name = argoWorkflowName(jobId);
    await vi.waitFor(async () => expect((await getWorkflow(bed, namespace, name)).status?.phase).toBe('Running'), {
      timeout: 30_000,
      interval: 300,
    });
    const cancel = await send(h.base, {
      method: 'POST',
      path: `/v1/jobs/${jobId}/cancel`,
      headers: { authorization: `Bearer ${user.token}` },
    });
    expect(cancel.status).toBe(202);
    await jobClosed(jobId, 'CANCELED');
    const stored = await getWorkflow(bed, namespace, name);
    expect(stored.spec.shutdown).toBe('Stop');
    await vi.waitFor(
      async () =>
        expect((await getWorkflow(bed, namespace, name)).status?.message).toMatch(/Stopped with strategy 'Stop'/),
      { timeout: 30_000, interval: 300 },
    );
    expect(statesFor(jobId)).toEqual(['pending', 'error']);
  });

  it('never creates a second Workflow when a submit is retried, from a template or a manifest', async () => {
    const activities = createArgoActivities({
      url: frontendUrl,
      fetchTimeoutMs: 30_000,
      token: { reveal: () => workerToken },
    });
    for (const source of [
      { workflowTemplate: 'build' },
      {
        manifest: {
          spec: {
            entrypoint: 'main',
            templates: [{ name: 'main', container: { name: '', image: 'alpine:3', command: ['true'] } }],
          },
        },
      },
    ]) {
      const input = {
        namespace,
        jobId: uniqueName('ci.retried'),
        route: 'ci',
        owner: 'retrier',
        repository: 'argo/build',
        sha: git.sha,
        ...source,
      };
      const first = await activities.submitArgoWorkflow(input);
      const again = await activities.submitArgoWorkflow(input);
      expect(again.name).toBe(first.name);
      const stored = await listWorkflows(bed, namespace, `gatehouse.dev/job=${labelValue(input.jobId)}`);
      expect(stored.map((w) => w.metadata.name)).toEqual([first.name]);
    }
  });

  it('refuses, without retrying, a token Argo does not accept', async () => {
    const activities = createArgoActivities({
      url: frontendUrl,
      fetchTimeoutMs: 30_000,
      token: { reveal: () => 'not-a-kubernetes-token' },
    });
    await expect(
      activities.getArgoWorkflow({ namespace, name: 'gatehouse-anything', owner: 'o' }),
    ).rejects.toMatchObject({ type: 'ArgoRejected', message: expect.stringMatching(/Argo answered 401/) });
    // A real ServiceAccount without rights in the namespace: Kubernetes says no, Argo answers 403.
    const stranger = await bed.createToken(namespace, 'default');
    const refused = createArgoActivities({
      url: frontendUrl,
      fetchTimeoutMs: 30_000,
      token: { reveal: () => stranger },
    });
    await expect(
      refused.submitArgoWorkflow({
        namespace,
        jobId: uniqueName('ci.stranger'),
        route: 'ci',
        owner: 'o',
        repository: 'argo/build',
        sha: git.sha,
        workflowTemplate: 'build',
      }),
    ).rejects.toMatchObject({ type: 'ArgoRejected', message: expect.stringMatching(/Argo answered 403/) });
  });

  it('rides out both Argo servers being down: the edge answers 503, the submit is retried, the job passes once they are back', async () => {
    await Promise.all(bed.servers.map((s) => s.kill()));
    const jobId = await startCi('argo/inline');
    // The submit meets an edge with no Argo server up: HAProxy's own 503, retried as ArgoUnavailable.
    const handle = h.bridges[0].app.temporal.client.workflow.getHandle(jobId);
    await vi.waitFor(
      async () => {
        const pending = (await handle.describe()).raw.pendingActivities ?? [];
        const submit = pending.find((a) => a.activityType?.name === 'submitArgoWorkflow');
        expect(submit?.lastFailure?.applicationFailureInfo?.type).toBe('ArgoUnavailable');
        expect(submit?.lastFailure?.message).toMatch(/Argo answered 503/);
      },
      { timeout: 30_000, interval: 500 },
    );
    await Promise.all(bed.servers.map((s) => s.start()));
    const job = await jobClosed(jobId, 'COMPLETED', 90_000);
    expect(job.result).toMatchObject({ argo: { phase: 'Succeeded' } });
  });
});
