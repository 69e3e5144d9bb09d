// Listing, cancelling and long-polling jobs against a real Temporal. Jobs that must stay RUNNING
// are started on a queue no worker polls yet; a worker started later lets them react to cancels.
import { describe, expect, it, vi } from 'vitest';
import { useGatehouse, startWorkers, uniqueName } from '../helpers/gatehouse.js';
import { readWebsite } from '../helpers/queries.js';

const query = readWebsite;

const h = useGatehouse({ worker: false });

describe('GET /v1/jobs', () => {
  it("lists only the caller's jobs, newest first, paginated with an opaque token", async () => {
    const me = await h.caller();
    const other = await h.caller();
    const mine = [
      (await me.start('policy-check', query)).jobId,
      (await me.start('policy-check', query)).jobId,
      (await me.start('policy-check', query)).jobId,
    ];
    await other.start('policy-check', query);

    // Visibility is eventually consistent: wait until all three are listed.
    await vi.waitFor(
      async () => {
        const all = await me.request({ url: '/v1/jobs?pageSize=10' });
        expect(all.json().jobs).toHaveLength(3);
      },
      { timeout: 10_000, interval: 200 },
    );

    const first = await me.request({ url: '/v1/jobs' }); // listPageSize 2
    expect(first.statusCode).toBe(200);
    const page1 = first.json();
    expect(page1.jobs).toHaveLength(2);
    expect(page1.nextPageToken).toEqual(expect.any(String));
    const second = await h.app.inject({
      url: `/v1/jobs?pageToken=${encodeURIComponent(page1.nextPageToken)}`,
      headers: me.headers,
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
    await me.start('policy-check', query);
    await vi.waitFor(
      async () => {
        const running = await h.app.inject({
          url: '/v1/jobs?status=RUNNING&route=policy-check',
          headers: me.headers,
        });
        expect(running.json().jobs).toHaveLength(1);
      },
      { timeout: 10_000, interval: 200 },
    );
    const completed = await me.request({ url: '/v1/jobs?status=COMPLETED' });
    expect(completed.json().jobs).toHaveLength(0);
    const otherRoute = await me.request({ url: '/v1/jobs?route=deploy-check' });
    expect(otherRoute.json().jobs).toHaveLength(0);
    const badStatus = await me.request({ url: '/v1/jobs?status=DONE' });
    expect(badStatus.statusCode).toBe(400);
  });

  it('treats a subject with quotes as a literal, not as query syntax', async () => {
    const tricky = await h.caller({ sub: `o'brien' OR GatehouseOwner != 'x-${Date.now()}` });
    const bystander = await h.caller();
    await bystander.start('policy-check', query);
    await tricky.start('policy-check', query);
    await vi.waitFor(
      async () => {
        const list = await tricky.request({ url: '/v1/jobs' });
        expect(list.statusCode).toBe(200);
        expect(list.json().jobs).toHaveLength(1);
        expect(list.json().jobs[0].owner).toBe(tricky.principal);
      },
      { timeout: 10_000, interval: 200 },
    );
  });

  it('refuses a page token from another query, and a forged one', async () => {
    const me = await h.caller();
    await me.start('policy-check', query);
    await me.start('policy-check', query);
    await me.start('policy-check', query);
    let token = '';
    await vi.waitFor(
      async () => {
        token = (await me.request({ url: '/v1/jobs' })).json().nextPageToken;
        expect(token).toEqual(expect.any(String));
      },
      { timeout: 10_000, interval: 200 },
    );
    const otherQuery = await h.app.inject({
      url: `/v1/jobs?status=RUNNING&pageToken=${encodeURIComponent(token)}`,
      headers: me.headers,
    });
    expect(otherQuery.statusCode).toBe(400);
    expect(otherQuery.json().code).toBe('GATEHOUSE_INVALID_PAGE_TOKEN');
    const forged = await me.request({ url: '/v1/jobs?pageToken=bm90LWEtdG9rZW4' });
    expect(forged.json().code).toBe('GATEHOUSE_INVALID_PAGE_TOKEN');
  });

  it("lets only admins list another owner's jobs", async () => {
    const owner = await h.caller();
    const stranger = await h.caller();
    const admin = await h.caller({ groups: ['gatehouse-admins'] });
    await owner.start('policy-check', query);
    const denied = await h.app.inject({
      url: `/v1/jobs?owner=${encodeURIComponent(owner.principal)}`,
      headers: stranger.headers,
    });
    expect(denied.statusCode).toBe(403);
    await vi.waitFor(
      async () => {
        const allowed = await h.app.inject({
          url: `/v1/jobs?owner=${encodeURIComponent(owner.principal)}`,
          headers: admin.headers,
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
      headers: me.headers,
    });
    expect(ci.statusCode).toBe(202);
    const policy = (await me.start('policy-check', query)).jobId;
    const ids = (answer: { json(): { jobs: Array<{ jobId: string }> } }) => answer.json().jobs.map((j) => j.jobId);
    await vi.waitFor(
      async () => {
        const byRepository = await h.app.inject({
          url: `/v1/jobs?repository=${encodeURIComponent(repository)}`,
          headers: me.headers,
        });
        expect(ids(byRepository)).toEqual([ci.json().jobId]);
        const everyone = await h.app.inject({
          url: `/v1/jobs?owner=*&repository=${encodeURIComponent(repository)}`,
          headers: admin.headers,
        });
        expect(ids(everyone)).toEqual([ci.json().jobId]);
      },
      { timeout: 10_000, interval: 200 },
    );
    const fromApi = await me.request({ url: '/v1/jobs?source=api&pageSize=10' });
    expect(ids(fromApi)).toEqual([policy, ci.json().jobId]);
    const fromGitHub = await me.request({ url: '/v1/jobs?source=github' });
    expect(ids(fromGitHub)).toEqual([]);
    // Everyone's jobs are admins' only, and the newest of them is one of this test's.
    const refused = await me.request({ url: '/v1/jobs?owner=*' });
    expect(refused.statusCode).toBe(403);
    const all = await admin.request({ url: '/v1/jobs?owner=*&pageSize=100' });
    expect(all.statusCode).toBe(200);
    expect(ids(all)).toEqual(expect.arrayContaining([policy, ci.json().jobId]));
    // The CI job must not run when a later test starts a worker on this queue.
    await h.app.temporal.client.workflow.getHandle(ci.json().jobId).terminate('test over');
  });
});

describe('GET /v1/jobs/{jobId}?wait=N', () => {
  it('answers RUNNING once the wait passes, and caps the wait at limits.maxWaitSeconds', async () => {
    const me = await h.caller();
    const jobId = (await me.start('policy-check', query)).jobId;
    const began = Date.now();
    const read = await me.request({ url: `/v1/jobs/${jobId}?wait=1` });
    const waited = Date.now() - began;
    expect(read.json().status).toBe('RUNNING');
    expect(waited).toBeGreaterThanOrEqual(900);

    const capped = Date.now();
    const long = await me.request({ url: `/v1/jobs/${jobId}?wait=3600` });
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
    const jobId = (await me.start('policy-check', query)).jobId;

    const hidden = await h.app.inject({
      method: 'POST',
      url: `/v1/jobs/${jobId}/cancel`,
      headers: stranger.headers,
    });
    expect(hidden.statusCode).toBe(404);

    const cancel = await me.cancel(jobId);
    expect(cancel.statusCode).toBe(202);
    expect(cancel.json()).toEqual({ jobId, status: 'CANCEL_REQUESTED' });

    // A worker picks the job up with the cancel request already in its history.
    const workers = await startWorkers(h.config);
    try {
      const read = await me.request({ url: `/v1/jobs/${jobId}?wait=5` });
      expect(read.json().status).toBe('CANCELED');
      expect(read.json().failure).toBeDefined();
      const again = await me.cancel(jobId);
      expect(again.statusCode).toBe(202);
      expect(again.json().status).toBe('CANCELED');

      const done = (await me.start('policy-check', query)).jobId;
      await me.request({ url: `/v1/jobs/${done}?wait=5` });
      const late = await me.cancel(done);
      expect(late.statusCode).toBe(409);
      expect(late.json().code).toBe('GATEHOUSE_JOB_NOT_RUNNING');
    } finally {
      await workers.stop();
    }
  });

  it('lets an admin cancel any job', async () => {
    const owner = await h.caller();
    const admin = await h.caller({ groups: ['gatehouse-admins'] });
    const jobId = (await owner.start('policy-check', query)).jobId;
    const cancel = await admin.cancel(jobId);
    expect(cancel.statusCode).toBe(202);
  });
});
