// POST /v1/jobs/{jobId}/rerun against a real Temporal and worker: a new job with the same route and
// input, owned by whoever asked, linked to the first (memo, GatehouseRerunOf, ?rerunOf=), idempotent
// by Idempotency-Key, refused as a start would be, and never for a job the caller may not see.
import { describe, expect, it, vi } from 'vitest';
import { readMemo } from '../../src/core/job-memo.js';
import { rerunOfKey } from '../../src/core/search-attributes.js';
import { randomBytes } from 'node:crypto';
import { testSecrets, useGatehouse } from '../helpers/gatehouse.js';
import { readWebsite } from '../helpers/queries.js';
import { deliver, githubDelivery, githubExample } from '../helpers/webhooks.js';

const h = useGatehouse();
const auth = (token: string) => ({ authorization: `Bearer ${token}` });

const rerun = (token: string, jobId: string, headers: Record<string, string> = {}) =>
  h.app.inject({ method: 'POST', url: `/v1/jobs/${jobId}/rerun`, headers: { ...auth(token), ...headers } });

describe('POST /v1/jobs/{jobId}/rerun', () => {
  it('starts a new job with the same route and input, linked to the first in its memo and search attributes', async () => {
    const me = await h.caller();
    const first = await me.start('policy-check', readWebsite);
    const firstDone = await me.read(first.jobId, { wait: 20 });
    expect(firstDone.status).toBe('COMPLETED');

    const answer = await rerun(me.token, first.jobId, { 'idempotency-key': 'again-1' });
    expect(answer.statusCode).toBe(202);
    const body = answer.json<{ jobId: string; runId: string; route: string; rerunOf: string }>();
    expect(body).toMatchObject({ route: 'policy-check', rerunOf: first.jobId, status: 'RUNNING' });
    expect(body.jobId).not.toBe(first.jobId);
    expect(answer.headers.location).toBe(`/v1/jobs/${body.jobId}`);

    const second = await me.read(body.jobId, { wait: 20 });
    const { evaluatedAt: _first, ...firstDecision } = firstDone.result as Record<string, unknown>;
    expect(second).toMatchObject({ status: 'COMPLETED', owner: me.principal, result: firstDecision });
    const description = await h.app.temporal.client.workflow.getHandle(body.jobId).describe();
    expect(description.memo?.rerunOf).toEqual({ jobId: first.jobId, runId: first.runId, requestedBy: me.principal });
    expect(readMemo(description.memo)?.identity.principal).toBe(me.principal);
    expect(description.typedSearchAttributes.get(rerunOfKey)).toBe(first.jobId);
    // The input the workflow received is the first job's, exactly.
    const history = await h.app.temporal.client.workflow.getHandle(body.jobId).fetchHistory();
    const started = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
    expect(JSON.parse(Buffer.from(started!.data!).toString('utf8')).input).toEqual(readWebsite);

    // The first job's page finds its reruns through the list.
    await vi.waitFor(
      async () => {
        const listed = await h.app.inject({ url: `/v1/jobs?rerunOf=${first.jobId}`, headers: auth(me.token) });
        expect(listed.json().jobs.map((j: { jobId: string }) => j.jobId)).toEqual([body.jobId]);
      },
      { timeout: 10_000, interval: 200 },
    );
  });

  it('answers the same rerun for the same Idempotency-Key, and a new one for another', async () => {
    const me = await h.caller();
    const first = await me.start('policy-check', readWebsite);
    const a = await rerun(me.token, first.jobId, { 'idempotency-key': 'k-1' });
    const again = await rerun(me.token, first.jobId, { 'idempotency-key': 'k-1' });
    const b = await rerun(me.token, first.jobId, { 'idempotency-key': 'k-2' });
    expect([a.statusCode, again.statusCode, b.statusCode]).toEqual([202, 202, 202]);
    expect(again.json().jobId).toBe(a.json().jobId);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(a.headers['idempotent-replayed']).toBeUndefined();
    expect(b.json().jobId).not.toBe(a.json().jobId);
    // The same key on a start of the route is another job: the rerun's key is scoped to the job.
    const plain = await me.start('policy-check', readWebsite, { key: 'k-1' });
    expect(plain.jobId).not.toBe(a.json().jobId);
  });

  it("is a 404 for a job the caller may not see, exactly as for one that does not exist; an admin, who sees it, may not run another's job as themselves", async () => {
    const owner = await h.caller();
    const stranger = await h.caller();
    const admin = await h.caller({ groups: ['gatehouse-admins'] });
    const first = await owner.start('policy-check', readWebsite);

    const hidden = await rerun(stranger.token, first.jobId);
    const missing = await rerun(stranger.token, 'policy-check.AAAAAAAAAAAAAAAAAAAAAA');
    expect(hidden.statusCode).toBe(404);
    expect(hidden.json().code).toBe('GATEHOUSE_JOB_NOT_FOUND');
    expect(missing.json()).toMatchObject({ code: hidden.json().code, detail: hidden.json().detail });

    // The admin reads the job, but a rerun would run its owner's input with the admin's rights.
    expect((await admin.read(first.jobId, { wait: 20 })).owner).toBe(owner.principal);
    const byAdmin = await rerun(admin.token, first.jobId);
    expect(byAdmin.statusCode).toBe(403);
    expect(byAdmin.json().code).toBe('GATEHOUSE_FORBIDDEN');
    const adminJobs = await h.app.inject({
      url: `/v1/jobs?rerunOf=${first.jobId}&owner=*`,
      headers: { authorization: `Bearer ${admin.token}` },
    });
    expect(adminJobs.json().jobs).toEqual([]);
    // A path that is no job id is the same 404, before anything asks Temporal.
    const odd = await rerun(owner.token, '..');
    expect(odd.statusCode).toBe(404);
  });

  it('applies the route rules of a start: its access and its required Idempotency-Key', async () => {
    const deployer = await h.caller({ groups: ['deployers'] });
    const first = await deployer.start('deploy-check', readWebsite, { key: 'deploy-1' });
    const withoutKey = await rerun(deployer.token, first.jobId);
    expect(withoutKey.statusCode).toBe(400);
    expect(withoutKey.json().code).toBe('GATEHOUSE_IDEMPOTENCY_KEY_REQUIRED');
    // The same person, no longer a deployer: they still see the job, but may not start the route.
    const demoted = await h.issuer.mint({ sub: deployer.subject, groups: [] });
    const refused = await rerun(demoted, first.jobId, { 'idempotency-key': 'deploy-again' });
    expect(refused.statusCode).toBe(403);
    expect(refused.json().code).toBe('GATEHOUSE_FORBIDDEN');
  });

  it('refuses to run again a job a webhook delivery started: that is a replay of the delivery', async () => {
    const admin = await h.caller({ groups: ['gatehouse-admins'] });
    const delivered = await deliver(
      h.app,
      githubDelivery(
        {
          ...githubExample('push', (e) => e.ref === 'refs/heads/master'),
          ref: 'refs/heads/main',
          after: randomBytes(20).toString('hex'),
        },
        { secret: testSecrets.TEST_GITHUB_SECRET, event: 'push' },
      ),
    );
    expect(delivered.statusCode).toBe(202);
    const answer = await rerun(admin.token, delivered.json().jobId);
    expect(answer.statusCode).toBe(409);
    expect(answer.json().code).toBe('GATEHOUSE_RERUN_NOT_POSSIBLE');
  });
});
