// Listing, cancelling and long-polling jobs against a real Temporal. Jobs that must stay RUNNING
// are started on a queue no worker polls yet; a worker started later lets them react to cancels.
import { describe, expect, it, vi } from 'vitest';
import { useGatehouse, startWorkers, uniqueName } from '../helpers/gatehouse.js';
import { readWebsite } from '../helpers/queries.js';

const query = readWebsite;

const h = useGatehouse({ worker: false });

const auth = (token: string) => ({ authorization: `Bearer ${token}` });

async function start(token: string, key?: string): Promise<string> {
  const answer = await h.app.inject({
    method: 'POST',
    url: '/v1/jobs/policy-check',
    payload: query,
    headers: { ...auth(token), ...(key === undefined ? {} : { 'idempotency-key': key }) },
  });
  expect(answer.statusCode).toBe(202);
  return answer.json().jobId as string;
}

describe('GET /v1/jobs', () => {
  it("lists only the caller's jobs, newest first, paginated with an opaque token", async () => {
    const me = await h.caller();
    const other = await h.caller();
    const mine = [await start(me.token), await start(me.token), await start(me.token)];
    await start(other.token);

    // Visibility is eventually consistent: wait until all three are listed.
    await vi.waitFor(
      async () => {
        const all = await h.app.inject({ url: '/v1/jobs?pageSize=10', headers: auth(me.token) });
        expect(all.json().jobs).toHaveLength(3);
      },
      { timeout: 10_000, interval: 200 },
    );

    const first = await h.app.inject({ url: '/v1/jobs', headers: auth(me.token) }); // listPageSize 2
    expect(first.statusCode).toBe(200);
    const page1 = first.json();
    expect(page1.jobs).toHaveLength(2);
    expect(page1.nextPageToken).toEqual(expect.any(String));
    const second = await h.app.inject({
      url: `/v1/jobs?pageToken=${encodeURIComponent(page1.nextPageToken)}`,
      headers: auth(me.token),
    });
    const page2 = second.json();
    const listed = [...page1.jobs, ...page2.jobs];
    expect(listed.map((j: { jobId: string }) => j.jobId)).toEqual([...mine].reverse());
    expect(
      listed.every(
        (j: { owner: string; route: string; status: string }) =>
          j.owner === me.principal && j.route === 'policy-check' && j.status === 'RUNNING',
      ),
    ).toBe(true);
  });

  it('filters by route and status', async () => {
    const me = await h.caller();
    await start(me.token);
    await vi.waitFor(
      async () => {
        const running = await h.app.inject({
          url: '/v1/jobs?status=RUNNING&route=policy-check',
          headers: auth(me.token),
        });
        expect(running.json().jobs).toHaveLength(1);
      },
      { timeout: 10_000, interval: 200 },
    );
    const completed = await h.app.inject({ url: '/v1/jobs?status=COMPLETED', headers: auth(me.token) });
    expect(completed.json().jobs).toHaveLength(0);
    const otherRoute = await h.app.inject({ url: '/v1/jobs?route=deploy-check', headers: auth(me.token) });
    expect(otherRoute.json().jobs).toHaveLength(0);
    const badStatus = await h.app.inject({ url: '/v1/jobs?status=DONE', headers: auth(me.token) });
    expect(badStatus.statusCode).toBe(400);
  });

  it('treats a subject with quotes as a literal, not as query syntax', async () => {
    const tricky = await h.caller({ sub: `o'brien' OR GatehouseOwner != 'x-${Date.now()}` });
    const bystander = await h.caller();
    await start(bystander.token);
    await start(tricky.token);
    await vi.waitFor(
      async () => {
        const list = await h.app.inject({ url: '/v1/jobs', headers: auth(tricky.token) });
        expect(list.statusCode).toBe(200);
        expect(list.json().jobs).toHaveLength(1);
        expect(list.json().jobs[0].owner).toBe(tricky.principal);
      },
      { timeout: 10_000, interval: 200 },
    );
  });

  it('refuses a page token from another query, and a forged one', async () => {
    const me = await h.caller();
    await start(me.token);
    await start(me.token);
    await start(me.token);
    let token = '';
    await vi.waitFor(
      async () => {
        token = (await h.app.inject({ url: '/v1/jobs', headers: auth(me.token) })).json().nextPageToken;
        expect(token).toEqual(expect.any(String));
      },
      { timeout: 10_000, interval: 200 },
    );
    const otherQuery = await h.app.inject({
      url: `/v1/jobs?status=RUNNING&pageToken=${encodeURIComponent(token)}`,
      headers: auth(me.token),
    });
    expect(otherQuery.statusCode).toBe(400);
    expect(otherQuery.json().code).toBe('GATEHOUSE_INVALID_PAGE_TOKEN');
    const forged = await h.app.inject({ url: '/v1/jobs?pageToken=bm90LWEtdG9rZW4', headers: auth(me.token) });
    expect(forged.json().code).toBe('GATEHOUSE_INVALID_PAGE_TOKEN');
  });

  it("lets only admins list another owner's jobs", async () => {
    const owner = await h.caller();
    const stranger = await h.caller();
    const admin = await h.caller({ groups: ['gatehouse-admins'] });
    await start(owner.token);
    const denied = await h.app.inject({
      url: `/v1/jobs?owner=${encodeURIComponent(owner.principal)}`,
      headers: auth(stranger.token),
    });
    expect(denied.statusCode).toBe(403);
    await vi.waitFor(
      async () => {
        const allowed = await h.app.inject({
          url: `/v1/jobs?owner=${encodeURIComponent(owner.principal)}`,
          headers: auth(admin.token),
        });
        expect(allowed.json().jobs).toHaveLength(1);
      },
      { timeout: 10_000, interval: 200 },
    );
  });

  it("filters by source and repository, and lets admins list everyone's jobs with owner=*", async () => {
    const me = await h.caller();
    const admin = await h.caller({ groups: ['gatehouse-admins'] });
    const repository = `acme/${uniqueName('repo')}`;
    const ci = await h.app.inject({
      method: 'POST',
      url: '/v1/jobs/ci',
      payload: { provider: 'github', repository: { fullName: repository }, after: 'a'.repeat(40) },
      headers: auth(me.token),
    });
    expect(ci.statusCode).toBe(202);
    const policy = await start(me.token);
    const ids = (answer: { json(): { jobs: Array<{ jobId: string }> } }) => answer.json().jobs.map((j) => j.jobId);
    await vi.waitFor(
      async () => {
        const byRepository = await h.app.inject({
          url: `/v1/jobs?repository=${encodeURIComponent(repository)}`,
          headers: auth(me.token),
        });
        expect(ids(byRepository)).toEqual([ci.json().jobId]);
        const everyone = await h.app.inject({
          url: `/v1/jobs?owner=*&repository=${encodeURIComponent(repository)}`,
          headers: auth(admin.token),
        });
        expect(ids(everyone)).toEqual([ci.json().jobId]);
      },
      { timeout: 10_000, interval: 200 },
    );
    const fromApi = await h.app.inject({ url: '/v1/jobs?source=api&pageSize=10', headers: auth(me.token) });
    expect(ids(fromApi)).toEqual([policy, ci.json().jobId]);
    const fromGitHub = await h.app.inject({ url: '/v1/jobs?source=github', headers: auth(me.token) });
    expect(ids(fromGitHub)).toEqual([]);
    // Everyone's jobs are admins' only, and the newest of them is one of this test's.
    const refused = await h.app.inject({ url: '/v1/jobs?owner=*', headers: auth(me.token) });
    expect(refused.statusCode).toBe(403);
    const all = await h.app.inject({ url: '/v1/jobs?owner=*&pageSize=100', headers: auth(admin.token) });
    expect(all.statusCode).toBe(200);
    expect(ids(all)).toEqual(expect.arrayContaining([policy, ci.json().jobId]));
    // The CI job must not run when a later test starts a worker on this queue.
    await h.app.temporal.client.workflow.getHandle(ci.json().jobId).terminate('test over');
  });
});

describe('GET /v1/jobs/{jobId}?wait=N', () => {
  it('answers RUNNING once the wait passes, and caps the wait at limits.maxWaitSeconds', async () => {
    const me = await h.caller();
    const jobId = await start(me.token);
    const began = Date.now();
    const read = await h.app.inject({ url: `/v1/jobs/${jobId}?wait=1`, headers: auth(me.token) });
    const waited = Date.now() - began;
    expect(read.json().status).toBe('RUNNING');
    expect(waited).toBeGreaterThanOrEqual(900);

    const capped = Date.now();
    const long = await h.app.inject({ url: `/v1/jobs/${jobId}?wait=3600`, headers: auth(me.token) });
    expect(long.json().status).toBe('RUNNING');
    // maxWaitSeconds is 5 in the test config: a cap, not the hour asked for.
    expect(Date.now() - capped).toBeLessThan(20_000);
    expect(Date.now() - capped).toBeGreaterThanOrEqual(4_900);
  });
});

describe('POST /v1/jobs/{jobId}/cancel', () => {
  it('requests cancellation; the workflow ends CANCELED; cancelling again answers the same; others get 404', async () => {
    const me = await h.caller();
    const stranger = await h.caller();
    const jobId = await start(me.token);

    const hidden = await h.app.inject({
      method: 'POST',
      url: `/v1/jobs/${jobId}/cancel`,
      headers: auth(stranger.token),
    });
    expect(hidden.statusCode).toBe(404);

    const cancel = await h.app.inject({ method: 'POST', url: `/v1/jobs/${jobId}/cancel`, headers: auth(me.token) });
    expect(cancel.statusCode).toBe(202);
    expect(cancel.json()).toEqual({ jobId, status: 'CANCEL_REQUESTED' });

    // A worker picks the job up with the cancel request already in its history.
    const workers = await startWorkers(h.config);
    try {
      const read = await h.app.inject({ url: `/v1/jobs/${jobId}?wait=5`, headers: auth(me.token) });
      expect(read.json().status).toBe('CANCELED');
      expect(read.json().failure).toBeDefined();
      const again = await h.app.inject({ method: 'POST', url: `/v1/jobs/${jobId}/cancel`, headers: auth(me.token) });
      expect(again.statusCode).toBe(202);
      expect(again.json().status).toBe('CANCELED');

      const done = await start(me.token);
      await h.app.inject({ url: `/v1/jobs/${done}?wait=5`, headers: auth(me.token) });
      const late = await h.app.inject({ method: 'POST', url: `/v1/jobs/${done}/cancel`, headers: auth(me.token) });
      expect(late.statusCode).toBe(409);
      expect(late.json().code).toBe('GATEHOUSE_JOB_NOT_RUNNING');
    } finally {
      await workers.stop();
    }
  });

  it('lets an admin cancel any job', async () => {
    const owner = await h.caller();
    const admin = await h.caller({ groups: ['gatehouse-admins'] });
    const jobId = await start(owner.token);
    const cancel = await h.app.inject({ method: 'POST', url: `/v1/jobs/${jobId}/cancel`, headers: auth(admin.token) });
    expect(cancel.statusCode).toBe(202);
  });
});
