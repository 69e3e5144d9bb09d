// An Argo job's trace reaches Argo: a CI job through the real edge, a traced bridge and worker
// (exporting to an in-process OTLP receiver), its submit sent through the edge's `argo` frontend
// to real Argo servers (server auth mode). The submit is an `argo.submit` span under
// RunActivity:submitArgoWorkflow in the job's trace, and the request that reached the Argo
// frontend carried that span's context in `traceparent` (the frontend logs it). The rest of the
// job's trace is test/integration/tracing.test.ts's.
import { appendFileSync } from 'node:fs';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import type { ArgoBed } from '../../src/dev/argo-bed/argo-bed.js';
import { startTraceReceiver, type ReceivedSpan, type TraceReceiver } from '../../src/dev/trace-receiver.js';
import { startTracing, type Tracing } from '../../src/telemetry/tracing.js';
import { bundleWorkflows } from '../../src/worker/bundle-workflows.js';
import { argoFrontend, startTestArgoBed } from '../helpers/argo-bed.js';
import { send, startEdgeHarness, type EdgeHarness } from '../helpers/edge.js';
import { fakeStatusApis, startFakeGitHosts, type FakeGitHosts } from '../helpers/fake-git-hosts.js';
import { gitServerOverlay, startGitServer, type GitServer } from '../helpers/git-server.js';
import { testSecrets, uniqueName } from '../helpers/gatehouse.js';

const namespace = 'ci';
let bed: ArgoBed;
let receiver: TraceReceiver;
let tracing: Tracing;
let hosts: FakeGitHosts;
let git: GitServer;
let h: EdgeHarness;
const edgeLog: string[] = [];
const testLog = process.env.GATEHOUSE_TEST_LOG ?? '/dev/null';

beforeAll(async () => {
  bed = await startTestArgoBed({ namespaces: [namespace] });
  await bed.kubectl(['-n', namespace, 'apply', '--server-side', '-f', 'test/fixtures/argo/templates.yaml']);
  receiver = await startTraceReceiver();
  tracing = await startTracing(
    { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_SERVICE_NAME: 'gatehouse-test' },
    { serviceName: 'gatehouse-test', warn: (message) => appendFileSync(testLog, `${message}\n`) },
  );
  hosts = await startFakeGitHosts(testSecrets.TEST_STATUS_TOKEN);
  git = await startGitServer({ 'workflow.yaml': 'kind: Workflow\n' });
  const frontend = await argoFrontend();
  // The shared bundle has no tracing interceptors: this file's worker gets one that has.
  const bundle = await bundleWorkflows({ tracing: true });
  h = await startEdgeHarness(
    { EDGE_ARGO_BIND: frontend.bind, EDGE_ARGO_1: bed.servers[0]!.address, EDGE_ARGO_2: bed.servers[1]!.address },
    {
      tracing,
      worker: { bundle: { code: bundle.code } },
      edgeLog: (chunk) => edgeLog.push(...chunk.split('\n').filter(Boolean)),
      overlay: {
        ci: {
          ...gitServerOverlay(git).ci,
          statusApis: fakeStatusApis(hosts, ['github']),
          // Server auth mode: Argo acts as its own ServiceAccount and needs no token from the workers.
          argo: { url: frontend.url, pollInterval: '1s', requestTimeout: '30s' },
          pipelines: [{ repositories: ['argo/*'], runner: 'argo', argo: { namespace, workflowTemplate: 'build' } }],
        },
      },
    },
  );
}, 300_000);

afterAll(async () => {
  await h?.close();
  await tracing?.shutdown();
  await receiver?.close();
  await hosts?.close();
  await git?.close();
  await bed?.stop();
});

it("sends the Argo submit, through the edge's Argo frontend, with the trace context of its span", async () => {
  const sub = uniqueName('maint');
  const token = await h.issuer.mint({ sub, groups: ['maintainers'] });
  const answer = await send(h.base, {
    method: 'POST',
    path: '/v1/jobs/ci',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ provider: 'github', repository: { fullName: 'argo/app' }, after: git.sha }),
  });
  expect(answer.status, answer.body).toBe(202);
  const jobId = answer.json<{ jobId: string }>().jobId;
  // The edge starts the trace and says its id on every answer.
  const traceId = String(answer.headers['x-trace-id']);
  expect(traceId).toMatch(/^[0-9a-f]{32}$/);
  await vi.waitFor(
    async () => {
      const job = await send(h.base, {
        path: `/v1/jobs/${jobId}?wait=5`,
        headers: { authorization: `Bearer ${token}` },
      });
      expect(job.json<{ status: string }>().status).toBe('COMPLETED');
    },
    { timeout: 60_000, interval: 300 },
  );

  let spans: ReceivedSpan[] = [];
  await vi.waitFor(
    async () => {
      await tracing.forceFlush();
      spans = receiver.trace(traceId);
      expect(spans.filter((s) => s.name === 'argo.submit')).toHaveLength(1);
    },
    { timeout: 30_000, interval: 200 },
  );
  const submit = spans.find((s) => s.name === 'argo.submit')!;
  const parent = spans.find((s) => s.spanId === submit.parentSpanId);
  expect(parent?.name).toBe('RunActivity:submitArgoWorkflow');
  expect(submit.attributes).toMatchObject({
    'gatehouse.argo.namespace': namespace,
    'gatehouse.argo.phase': expect.any(String),
  });

  // The Argo frontend's log line for the submit shows the traceparent it passed on to Argo.
  const submitted = edgeLog.find((line) => line.includes(`"POST /api/v1/workflows/${namespace}/submit`));
  expect(submitted, edgeLog.join('\n')).toContain(`{00-${traceId}-${submit.spanId}-01}`);
});
