// One OpenTelemetry trace per job, end to end: the real edge (HAProxy) in front of two traced
// bridges and a traced worker, exporting over OTLP/HTTP to an in-process receiver. An API job
// and a signed GitHub push each become one tree: the bridge's server span, a child of the span id
// the edge put in `traceparent`, then StartWorkflow, RunWorkflow, each StartActivity/RunActivity,
// and the activities' own spans (policy, checkout, each CI step, the status calls, the ledger
// writes). Also: the edge starts every trace (a caller's valid traceparent is only a link, and its
// sampled flag does not decide), url.path has no query, every answer carries the trace id, and the
// bridge's and the edge's log lines carry it. An Argo job's submit
// carrying its trace context to a real Argo is test/argo/tracing.test.ts.
//
// The tracer provider is per process, and this file's process hosts the bridges and the worker:
// it is registered here only, and shut down (unregistered) after the file.
import { appendFileSync, readFileSync } from 'node:fs';
import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { buildApp } from '../../src/bridge/app.js';
import { parseTraceparent } from '../../src/core/trace-context.js';
import {
  formatTrace,
  startTraceReceiver,
  type ReceivedSpan,
  type TraceReceiver,
} from '../../src/dev/trace-receiver.js';
import { startTracing, type Tracing } from '../../src/telemetry/tracing.js';
import { bundleWorkflows } from '../../src/worker/bundle-workflows.js';
import { send, startEdgeHarness, type EdgeAnswer, type EdgeHarness } from '../helpers/edge.js';
import { ciFakes, ciOverlay } from '../helpers/ci-overlay.js';
import type { FakeGitHosts } from '../helpers/fake-git-hosts.js';
import type { GitServer } from '../helpers/git-server.js';
import { testSecrets, uniqueName } from '../helpers/gatehouse.js';
import { githubDelivery, githubPush } from '../helpers/webhooks.js';

let receiver: TraceReceiver;
let tracing: Tracing;
let h: EdgeHarness<{ hosts: FakeGitHosts; git: GitServer }>;
const edgeLog: string[] = [];
const testLog = process.env.GATEHOUSE_TEST_LOG ?? '/dev/null';

beforeAll(async () => {
  receiver = await startTraceReceiver();
  tracing = await startTracing(
    { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_SERVICE_NAME: 'gatehouse-test' },
    { serviceName: 'gatehouse-test', warn: (message) => appendFileSync(testLog, `${message}\n`) },
  );
  // The shared bundle has no tracing interceptors: this file's worker gets one that has.
  const bundle = await bundleWorkflows({ tracing: true });
  h = await startEdgeHarness(
    {},
    {
      tracing,
      worker: { bundle: { code: bundle.code } },
      edgeLog: (chunk) => edgeLog.push(...chunk.split('\n').filter(Boolean)),
      fakes: ciFakes({ 'build.sh': '#!/bin/sh\necho built "$(git rev-parse HEAD)"\n' }),
      overlay: ({ fakes }) =>
        ciOverlay(fakes, [
          {
            repositories: ['Codertocat/*', 'acme/*'],
            runner: 'steps',
            steps: [
              { name: 'show-traceparent', run: 'echo "TRACEPARENT=$TRACEPARENT"', timeout: '1m' },
              { name: 'build', run: './build.sh', timeout: '1m' },
            ],
          },
        ]),
    },
  );
}, 120_000);

afterAll(async () => {
  await h?.close();
  await tracing?.shutdown();
  await receiver?.close();
});

const maintainer = async () => h.issuer.mint({ sub: uniqueName('maint'), groups: ['maintainers'] });
const json = { 'content-type': 'application/json' };

/** The headers the bridge received for the request the edge answered with this X-Request-ID. */
function bridgeSaw(answer: EdgeAnswer): Record<string, string | string[] | undefined> {
  const id = answer.headers['x-request-id'];
  const seen = [...h.bridges[0].seen, ...h.bridges[1].seen].find((headers) => headers['x-request-id'] === id);
  if (seen === undefined) throw new Error(`no bridge saw request ${String(id)}`);
  return seen;
}

async function waitJob(token: string, jobId: string) {
  let job: Record<string, unknown> = {};
  await vi.waitFor(
    async () => {
      const answer = await send(h.base, {
        path: `/v1/jobs/${jobId}?wait=5`,
        headers: { authorization: `Bearer ${token}` },
      });
      job = answer.json();
      expect(job.status).not.toBe('RUNNING');
    },
    { timeout: 30_000, interval: 100 },
  );
  return job as { status: string; result: { steps: { steps: Array<{ name: string; output: string }> } } };
}

/** The trace's spans once `done` holds for them (spans are flushed to the receiver while waiting). */
async function traceOf(traceId: string, done: (spans: ReceivedSpan[]) => boolean): Promise<ReceivedSpan[]> {
  let spans: ReceivedSpan[] = [];
  await vi.waitFor(
    async () => {
      await tracing.forceFlush();
      spans = receiver.trace(traceId);
      expect(done(spans)).toBe(true);
    },
    { timeout: 30_000, interval: 200 },
  );
  return spans;
}

const named = (spans: ReceivedSpan[], name: string) => spans.filter((span) => span.name === name);
const one = (spans: ReceivedSpan[], name: string) => {
  const found = named(spans, name);
  expect(found, name).toHaveLength(1);
  return found[0]!;
};

/**
 * One tree: exactly one span's parent is outside the trace (the server span, whose parent is the
 * edge's span), and every other span reaches it through its parents. Returns the chain of names
 * from `leaf` up to the server span.
 */
function expectOneTree(spans: ReceivedSpan[], rootName: string, edgeSpanId: string, leaf: ReceivedSpan): string[] {
  const byId = new Map(spans.map((span) => [span.spanId, span]));
  const outside = spans.filter((span) => span.parentSpanId === undefined || !byId.has(span.parentSpanId));
  expect(outside.map((span) => span.name)).toEqual([rootName]);
  expect(outside[0]!.parentSpanId).toBe(edgeSpanId);
  expect(outside[0]!.kind).toBe(2); // SERVER
  const chainOf = (span: ReceivedSpan) => {
    const chain = [span.name];
    let at = span;
    while (at.parentSpanId !== undefined && byId.has(at.parentSpanId)) {
      at = byId.get(at.parentSpanId)!;
      chain.push(at.name);
      if (chain.length > spans.length) throw new Error('a parent cycle');
    }
    return chain;
  };
  for (const span of spans) expect(chainOf(span).at(-1), span.name).toBe(rootName);
  return chainOf(leaf);
}

/**
 * The job's own spans (its start, its run and its activities) found in other traces: none, if the
 * trace held together. (Reads of the job are requests of their own, in traces of their own.)
 */
function strays(traceId: string, jobId: string): string[] {
  return receiver
    .spans()
    .filter(
      (span) =>
        span.traceId !== traceId &&
        /^(StartWorkflow|RunWorkflow|StartActivity|RunActivity):/.test(span.name) &&
        (span.attributes.temporalWorkflowId === jobId || span.attributes.workflowId === jobId),
    )
    .map((span) => `${span.name} in ${span.traceId}`);
}

/** The CI job's spans, in the order the pipeline makes them, whatever started it. */
function expectCiSpans(spans: ReceivedSpan[], handler: string): void {
  for (const name of [
    handler,
    'StartWorkflow:ciPipeline',
    'RunWorkflow:ciPipeline',
    'RunActivity:planPipeline',
    'RunActivity:evaluatePolicy',
    'policy.evaluate',
    'RunActivity:verifyCommit',
    'RunActivity:runSteps',
    'ci.step show-traceparent',
    'ci.step build',
  ])
    one(spans, name);
  expect(named(spans, 'ci.checkout')).toHaveLength(2); // verifyCommit, then runSteps
  expect(named(spans, 'commit-status github').map((span) => span.attributes['gatehouse.commit_status.state'])).toEqual([
    'pending',
    'success',
  ]);
  expect(named(spans, 'ledger.write').map((span) => span.attributes['gatehouse.ledger.metric'])).toEqual([
    'jobs',
    'run_seconds',
  ]);
  expect(one(spans, 'policy.evaluate').attributes['gatehouse.policy.decision']).toBe('allow');
  expect(one(spans, 'RunWorkflow:ciPipeline').parentSpanId).toBe(one(spans, 'StartWorkflow:ciPipeline').spanId);
}

/** The activity that ended last and the ledger write it made. */
function lastActivity(spans: ReceivedSpan[]): ReceivedSpan {
  const runs = spans.filter((span) => span.name.startsWith('RunActivity:'));
  const last = runs.reduce((a, b) => (b.endMs > a.endMs ? b : a));
  expect(last.name).toBe('RunActivity:recordUsage');
  return spans.find((span) => span.name === 'ledger.write' && span.parentSpanId === last.spanId)!;
}

describe('one trace per job', () => {
  it('follows an API job from the edge to its last activity, and logs it with trace, request and job ids', async () => {
    const token = await maintainer();
    const answer = await send(h.base, {
      method: 'POST',
      path: '/v1/jobs/ci',
      headers: { authorization: `Bearer ${token}`, ...json },
      body: JSON.stringify({ provider: 'github', repository: { fullName: 'acme/api' }, after: h.fakes.git.sha }),
    });
    expect(answer.status, answer.body).toBe(202);
    const jobId = answer.json<{ jobId: string }>().jobId;
    // The edge made the trace context (the caller sent none) and returned its trace id.
    const edgeContext = parseTraceparent(bridgeSaw(answer).traceparent)!;
    expect(edgeContext).toBeDefined();
    const traceId = answer.headers['x-trace-id'];
    expect(traceId).toBe(edgeContext.traceId);

    const job = await waitJob(token, jobId);
    expect(job.status).toBe('COMPLETED');
    const spans = await traceOf(edgeContext.traceId, (s) => named(s, 'RunWorkflow:ciPipeline').length === 1);
    expectCiSpans(spans, 'handler /v1/jobs/ci');
    expect(one(spans, 'POST /v1/jobs/ci').attributes['gatehouse.job_id']).toBe(jobId);
    expect(expectOneTree(spans, 'POST /v1/jobs/ci', edgeContext.parentId, lastActivity(spans))).toEqual([
      'ledger.write',
      'RunActivity:recordUsage',
      'StartActivity:recordUsage',
      'RunWorkflow:ciPipeline',
      'StartWorkflow:ciPipeline',
      'handler /v1/jobs/ci',
      'POST /v1/jobs/ci',
    ]);
    expect(strays(edgeContext.traceId, jobId)).toEqual([]);

    // The step's process got its own span's context.
    const step = one(spans, 'ci.step show-traceparent');
    const output = job.result.steps.steps.find((s) => s.name === 'show-traceparent')!.output;
    expect(output).toContain(`TRACEPARENT=00-${edgeContext.traceId}-${step.spanId}-01`);

    // The bridge's `answered` line carries the trace, the request and the job; the edge's, the trace.
    const requestId = answer.headers['x-request-id'];
    await vi.waitFor(
      () => {
        const lines = readFileSync(testLog, 'utf8')
          .split('\n')
          .filter((line) => line.startsWith('{'))
          .map((line) => JSON.parse(line) as Record<string, unknown>);
        expect(lines.find((line) => line.msg === 'answered' && line.reqId === requestId)).toMatchObject({
          traceId: edgeContext.traceId,
          jobId,
          status: 202,
        });
        expect(edgeLog.find((line) => line.includes(`id=${String(requestId)}`))).toContain(
          `trace=${edgeContext.traceId}`,
        );
      },
      { timeout: 10_000, interval: 100 },
    );
  });

  it('follows a signed webhook delivery from the edge to its last activity, with the provider and delivery id', async () => {
    const push = githubPush(h.fakes.git.sha, `${h.fakes.git.url}/github/Codertocat/Hello-World.git`);
    const deliveryId = randomUUID();
    const delivery = githubDelivery(push, {
      secret: testSecrets.TEST_GITHUB_SECRET,
      event: 'push',
      delivery: deliveryId,
      path: '/v1/webhooks/github/ci',
    });
    const answer = await send(h.base, {
      method: 'POST',
      path: delivery.url,
      headers: delivery.headers,
      body: delivery.body,
    });
    expect(answer.status, answer.body).toBe(202);
    const jobId = answer.json<{ jobId: string }>().jobId;
    const edgeContext = parseTraceparent(bridgeSaw(answer).traceparent)!;
    expect(answer.headers['x-trace-id']).toBe(edgeContext.traceId);

    const job = await waitJob(await h.issuer.mint({ sub: 'ops', groups: ['gatehouse-admins'] }), jobId);
    expect(job.status).toBe('COMPLETED');
    const spans = await traceOf(edgeContext.traceId, (s) => named(s, 'RunWorkflow:ciPipeline').length === 1);
    expectCiSpans(spans, 'handler /v1/webhooks/github/ci');
    expect(one(spans, 'POST /v1/webhooks/github/ci').attributes).toMatchObject({
      'gatehouse.webhook.provider': 'github',
      'gatehouse.webhook.hook': 'ci',
      'gatehouse.webhook.delivery_id': deliveryId,
      'gatehouse.job_id': jobId,
    });
    const chain = expectOneTree(spans, 'POST /v1/webhooks/github/ci', edgeContext.parentId, lastActivity(spans));
    expect(chain.at(-2)).toBe('handler /v1/webhooks/github/ci');
    expect(strays(edgeContext.traceId, jobId)).toEqual([]);
    // The tree, for whoever reads this file's log.
    appendFileSync(
      testLog,
      `webhook delivery ${deliveryId}, edge span ${edgeContext.parentId}\n${formatTrace(spans)}\n`,
    );
  });
});

describe('the trace context at the edge', () => {
  const hex = (bytes: number) => randomBytes(bytes).toString('hex');
  const policyCheck = async (headers: Record<string, string>) =>
    send(h.base, {
      method: 'POST',
      path: '/v1/jobs/policy-check',
      headers: { authorization: `Bearer ${await maintainer()}`, ...json, ...headers },
      body: JSON.stringify({
        action: { type: 'Gatehouse::Action', id: 'deploy' },
        resource: { type: 'Gatehouse::Repository', id: 'acme/api' },
      }),
    });

  it("ends a long-poll's server span when it answers, and logs the answer once, as for any other request", async () => {
    const token = await maintainer();
    const started = await send(h.base, {
      method: 'POST',
      path: '/v1/jobs/policy-check',
      headers: { authorization: `Bearer ${token}`, ...json },
      body: JSON.stringify({
        action: { type: 'Gatehouse::Action', id: 'read' },
        resource: { type: 'Gatehouse::Repository', id: 'acme/website' },
      }),
    });
    expect(started.status, started.body).toBe(202);
    const jobId = started.json<{ jobId: string }>().jobId;
    // Long-polls whose replies Fastify let go of while they waited (taken-over-reply.ts): the
    // caller's, which closes while it waits or has closed, and another caller's, who may not see
    // the job (a 404, once it has been described).
    const waited = await send(h.base, {
      path: `/v1/jobs/${jobId}?wait=10`,
      headers: { authorization: `Bearer ${token}` },
    });
    expect(waited.status, waited.body).toBe(200);
    expect(waited.json<{ status: string }>().status).not.toBe('RUNNING');
    const stranger = await h.issuer.mint({ sub: uniqueName('stranger') });
    const missing = await send(h.base, {
      path: `/v1/jobs/${jobId}?wait=10`,
      headers: { authorization: `Bearer ${stranger}` },
    });
    expect(missing.status, missing.body).toBe(404);
    expect(missing.headers['content-type']).toBe('application/problem+json; charset=utf-8');
    expect(missing.json<{ code: string; requestId: string }>()).toMatchObject({
      code: 'GATEHOUSE_JOB_NOT_FOUND',
      requestId: missing.headers['x-request-id'],
    });

    for (const [answer, id, status] of [
      [waited, jobId, 200],
      [missing, jobId, 404],
    ] as const) {
      const traceId = String(answer.headers['x-trace-id']);
      expect(traceId).toBe(parseTraceparent(bridgeSaw(answer).traceparent)!.traceId);
      const spans = await traceOf(traceId, (s) => named(s, 'GET /v1/jobs/:jobId').length === 1);
      const server = one(spans, 'GET /v1/jobs/:jobId');
      expect(server.attributes).toMatchObject({ 'http.response.status_code': status, 'gatehouse.job_id': id });
      // As on Fastify's path, where @fastify/otel records any error a handler throws.
      expect(server.status.code).toBe(status === 200 ? 0 : 2);
      const requestId = answer.headers['x-request-id'];
      await vi.waitFor(
        () => {
          const answered = readFileSync(testLog, 'utf8')
            .split('\n')
            .filter((line) => line.startsWith('{'))
            .map((line) => JSON.parse(line) as Record<string, unknown>)
            .filter((line) => line.msg === 'answered' && line.reqId === requestId);
          expect(answered).toHaveLength(1);
          expect(answered[0]).toMatchObject({ traceId, jobId: id, status, method: 'GET' });
        },
        { timeout: 10_000, interval: 100 },
      );
    }
  });

  it("starts a trace of its own for every request: a caller's valid traceparent, unsampled too, is only a link", async () => {
    const caller = { traceId: hex(16), spanId: hex(8) };
    const traceparent = `00-${caller.traceId}-${caller.spanId}-00`;
    // A caller asking not to be recorded, with a forged X-Caller-Traceparent beside its own header.
    const answer = await policyCheck({
      traceparent,
      tracestate: 'vendor=opaque',
      'x-caller-traceparent': `00-${hex(16)}-${hex(8)}-01`,
    });
    expect(answer.status, answer.body).toBe(202);
    const traceId = answer.headers['x-trace-id'] as string;
    expect(traceId).not.toBe(caller.traceId);
    const edgeContext = parseTraceparent(bridgeSaw(answer).traceparent)!;
    expect(edgeContext).toMatchObject({ traceId, flags: '01' });
    expect(bridgeSaw(answer)['x-caller-traceparent']).toBe(traceparent);
    expect(bridgeSaw(answer).tracestate).toBeUndefined();
    // The job is recorded, in the edge's trace, and the caller's context is a link of its root.
    const spans = await traceOf(traceId, (s) => named(s, 'RunWorkflow:policyCheck').length === 1);
    const server = one(spans, 'POST /v1/jobs/policy-check');
    expect(server.links).toEqual([
      { traceId: caller.traceId, spanId: caller.spanId, attributes: { 'gatehouse.link': 'caller' } },
    ]);
    expectOneTree(spans, 'POST /v1/jobs/policy-check', edgeContext.parentId, one(spans, 'policy.evaluate'));
    expect(receiver.trace(caller.traceId)).toEqual([]);

    // Without a traceparent of its own, a caller's X-Caller-Traceparent links nothing.
    const forged = await policyCheck({ 'x-caller-traceparent': traceparent });
    expect(bridgeSaw(forged)['x-caller-traceparent']).toBeUndefined();
    const forgedTrace = await traceOf(forged.headers['x-trace-id'] as string, (s) => s.length > 0);
    expect(one(forgedTrace, 'POST /v1/jobs/policy-check').links).toEqual([]);
  });

  it('records the path of a request without its query string', async () => {
    const token = await maintainer();
    const started = await policyCheck({});
    const jobId = started.json<{ jobId: string }>().jobId;
    const answer = await send(h.base, {
      path: `/v1/jobs/${jobId}?wait=0&note=not-for-traces`,
      headers: { authorization: `Bearer ${token}` },
    });
    expect(answer.status).toBeLessThan(500);
    const spans = await traceOf(
      answer.headers['x-trace-id'] as string,
      (s) => named(s, 'GET /v1/jobs/:jobId').length === 1,
    );
    const server = one(spans, 'GET /v1/jobs/:jobId');
    expect(server.attributes['url.path']).toBe(`/v1/jobs/${jobId}`);
    expect(JSON.stringify(spans)).not.toContain('not-for-traces');
  });

  it('records a request that reached a bridge without the edge whatever sampled flag it carries', async () => {
    const traceId = hex(16);
    const answer = await h.bridges[0].app.inject({
      method: 'POST',
      url: '/v1/jobs/policy-check',
      headers: { authorization: `Bearer ${await maintainer()}`, ...json, traceparent: `00-${traceId}-${hex(8)}-00` },
      payload: JSON.stringify({
        action: { type: 'Gatehouse::Action', id: 'deploy' },
        resource: { type: 'Gatehouse::Repository', id: 'acme/api' },
      }),
    });
    expect(answer.statusCode, answer.body).toBe(202);
    const spans = await traceOf(traceId, (s) => named(s, 'RunWorkflow:policyCheck').length === 1);
    one(spans, 'POST /v1/jobs/policy-check');
  });

  it.each([
    ['uppercase hex', (t: string, s: string) => `00-${t.toUpperCase()}-${s}-01`],
    ['an all-zero trace id', (_t: string, s: string) => `00-${'0'.repeat(32)}-${s}-01`],
    ['an all-zero span id', (t: string) => `00-${t}-${'0'.repeat(16)}-01`],
    ['another version', (t: string, s: string) => `01-${t}-${s}-01`],
    ['trailing data', (t: string, s: string) => `00-${t}-${s}-01-extra`],
  ])('replaces a traceparent with %s, and drops its tracestate', async (_case, make) => {
    const sent = make(hex(16), hex(8));
    const answer = await policyCheck({ traceparent: sent, tracestate: 'vendor=opaque' });
    expect(answer.status, answer.body).toBe(202);
    const made = parseTraceparent(bridgeSaw(answer).traceparent);
    expect(made).toBeDefined();
    expect(bridgeSaw(answer).traceparent).not.toBe(sent);
    expect(made!.flags).toBe('01');
    expect(bridgeSaw(answer).tracestate).toBeUndefined();
    expect(bridgeSaw(answer)['x-caller-traceparent']).toBeUndefined();
    expect(answer.headers['x-trace-id']).toBe(made!.traceId);
  });

  it("puts the trace id on the edge's own refusals and on the bridge's errors", async () => {
    const refused = await send(h.base, { path: '/v1/jobs' });
    expect(refused.status).toBe(401);
    expect(refused.headers['x-trace-id']).toMatch(/^[0-9a-f]{32}$/);
    const unknown = await send(h.base, {
      method: 'POST',
      path: '/v1/jobs/no-such-route',
      headers: { authorization: `Bearer ${await maintainer()}`, ...json },
      body: '{}',
    });
    expect(unknown.status).toBe(404);
    expect(unknown.headers['x-trace-id']).toBe(parseTraceparent(bridgeSaw(unknown).traceparent)!.traceId);
  });

  it('answers with the incoming trace id from a bridge that does not trace, and with none when there is none', async () => {
    const lines: string[] = [];
    const app = await buildApp(h.config, { logger: { level: 'info', stream: { write: (line) => lines.push(line) } } });
    try {
      const traceId = hex(16);
      const answer = await app.inject({ url: '/healthz', headers: { traceparent: `00-${traceId}-${hex(8)}-01` } });
      expect(answer.headers['x-trace-id']).toBe(traceId);
      expect((await app.inject({ url: '/healthz' })).headers['x-trace-id']).toBeUndefined();
      // And logs it, once, on the request's lines.
      const missing = await app.inject({ url: '/nowhere', headers: { traceparent: `00-${traceId}-${hex(8)}-01` } });
      const answered = lines.find((line) => line.includes(`"reqId":"${missing.headers['x-request-id']}"`));
      expect(JSON.parse(answered!)).toMatchObject({ msg: 'answered', status: 404, traceId });
      expect(answered!.split('"traceId"')).toHaveLength(2);
    } finally {
      await app.close();
    }
  });
});
