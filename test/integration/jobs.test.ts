// The jobs API against a real Temporal dev server and a real worker: start, read, long-poll,
// idempotent replays, visibility between callers, and what Temporal holds in memo and search
// attributes.
import { describe, expect, it } from 'vitest';
import { useGatehouse } from '../helpers/gatehouse.js';
import { deployApi } from '../helpers/queries.js';

const query = deployApi;

const h = useGatehouse();

describe('POST /v1/jobs/policy-check', () => {
  it('starts a workflow that completes with the Cedar decision, and records the caller in memo and search attributes', async () => {
    const me = await h.caller({
      groups: ['maintainers'],
      email: 'ada@example.test',
      name: 'Ada',
    });
    const { subject, principal } = me;
    const started = await me.send('policy-check', query);
    expect(started.statusCode).toBe(202);
    const body = started.json();
    expect(started.headers.location).toBe(`/v1/jobs/${body.jobId}`);
    expect(body).toMatchObject({ route: 'policy-check', status: 'RUNNING' });
    expect(body.runId).toMatch(/^[0-9a-f-]{36}$/);

    const read = await h.app.inject({
      url: `/v1/jobs/${body.jobId}?wait=5`,
      headers: me.headers,
    });
    expect(read.statusCode).toBe(200);
    const job = read.json();
    expect(job).toMatchObject({
      status: 'COMPLETED',
      owner: principal,
      route: 'policy-check',
      workflowType: 'policyCheck',
      source: 'api',
    });
    expect(job.result).toMatchObject({ decision: 'allow', policies: ['maintainers-deploy'], requestedBy: principal });
    expect(job.closedAt).toBeDefined();

    const description = await h.app.temporal.client.workflow.getHandle(body.jobId).describe();
    expect(description.memo?.identity).toMatchObject({
      method: 'jwt',
      principal,
      issuer: h.issuer.issuer,
      subject,
      email: 'ada@example.test',
      name: 'Ada',
      groups: ['maintainers'],
    });
    expect(description.memo?.request).toMatchObject({ route: 'policy-check', clientAddress: '127.0.0.1' });
    expect((description.memo?.request as { bodySha256: string }).bodySha256).toMatch(/^[0-9a-f]{64}$/);
    const attributes = Object.fromEntries(description.typedSearchAttributes.getAll().map((p) => [p.key.name, p.value]));
    expect(attributes).toMatchObject({
      GatehouseOwner: principal,
      GatehouseRoute: 'policy-check',
      GatehouseSource: 'api',
    });
  });

  it('reports a deny decision from a forbid policy as the result', async () => {
    const me = await h.caller({ groups: ['maintainers'] });
    const started = await me.send('policy-check', {
      ...query,
      resource: { type: 'Gatehouse::Repository', id: 'acme/payments' },
    });
    const job = (
      await h.app.inject({
        url: `/v1/jobs/${started.json().jobId}?wait=5`,
        headers: me.headers,
      })
    ).json();
    expect(job.result).toMatchObject({ decision: 'deny', policies: ['deploy-freeze'] });
  });

  it('answers a replay of the same Idempotency-Key with the same job, and the key with another body with 422', async () => {
    const me = await h.caller();
    const first = await me.send('policy-check', query, { key: 'order-1' });
    const again = await me.send('policy-check', query, { key: 'order-1' });
    expect(first.statusCode).toBe(202);
    expect(first.headers['idempotent-replayed']).toBeUndefined();
    expect(again.statusCode).toBe(202);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.json().jobId).toBe(first.json().jobId);
    expect(again.json().runId).toBe(first.json().runId);

    const other = await me.send('policy-check', { ...query, context: { changed: true } }, { key: 'order-1' });
    expect(other.statusCode).toBe(422);
    expect(other.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(other.json().code).toBe('GATEHOUSE_IDEMPOTENCY_KEY_REUSED');
  });

  it('scopes Idempotency-Keys by caller: the same key from two callers starts two jobs', async () => {
    const a = await h.caller();
    const b = await h.caller();
    const first = await a.send('policy-check', query, { key: 'shared-key' });
    const second = await b.send('policy-check', query, { key: 'shared-key' });
    expect(second.headers['idempotent-replayed']).toBeUndefined();
    expect(second.json().jobId).not.toBe(first.json().jobId);
  });

  it('starts one workflow when the same Idempotency-Key arrives concurrently', async () => {
    const me = await h.caller();
    const answers = await Promise.all(
      Array.from({ length: 8 }, () => me.send('policy-check', query, { key: 'burst' })),
    );
    expect(answers.map((a) => a.statusCode)).toEqual(Array(8).fill(202));
    expect(new Set(answers.map((a) => a.json().jobId)).size).toBe(1);
    expect(new Set(answers.map((a) => a.json().runId)).size).toBe(1);
    expect(answers.filter((a) => a.headers['idempotent-replayed'] === undefined)).toHaveLength(1);
  });

  it('uses a sane X-Request-ID as the key when there is no Idempotency-Key, so an edge retry cannot start twice', async () => {
    const me = await h.caller();
    const headers = { 'x-request-id': 'edge-retry-0123456789' };
    const first = await me.send('policy-check', query, { headers });
    const retry = await me.send('policy-check', query, { headers });
    expect(retry.json().jobId).toBe(first.json().jobId);
    expect(retry.headers['idempotent-replayed']).toBe('true');
    expect(first.headers['x-request-id']).toBe('edge-retry-0123456789');

    const fresh1 = await me.send('policy-check', query);
    const fresh2 = await me.send('policy-check', query);
    expect(fresh1.json().jobId).not.toBe(fresh2.json().jobId);
  });

  it('ignores an X-Request-ID that is not plainly an id, and answers with one of its own', async () => {
    const me = await h.caller();
    const answer = await me.send('policy-check', query, { headers: { 'x-request-id': 'bad id with spaces' } });
    expect(answer.statusCode).toBe(202);
    expect(answer.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe('GET /v1/jobs/{jobId}', () => {
  it("answers 404 for another caller's job, exactly as for a job that does not exist", async () => {
    const owner = await h.caller();
    const stranger = await h.caller();
    const jobId = (await owner.send('policy-check', query)).json().jobId;
    const hidden = await h.app.inject({
      url: `/v1/jobs/${jobId}`,
      headers: stranger.headers,
    });
    const missing = await h.app.inject({
      url: '/v1/jobs/policy-check.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
      headers: stranger.headers,
    });
    expect(hidden.statusCode).toBe(404);
    expect(missing.statusCode).toBe(404);
    expect(hidden.json()).toEqual({ ...missing.json(), requestId: hidden.json().requestId });
    expect(hidden.json().code).toBe('GATEHOUSE_JOB_NOT_FOUND');
  });

  it('lets an admin read any job', async () => {
    const owner = await h.caller();
    const admin = await h.caller({ groups: ['gatehouse-admins'] });
    const jobId = (await owner.send('policy-check', query)).json().jobId;
    const read = await h.app.inject({ url: `/v1/jobs/${jobId}`, headers: admin.headers });
    expect(read.statusCode).toBe(200);
    expect(read.json().owner).toBe(owner.principal);
  });

  it.each([
    ['..%2F..%2Fetc%2Fpasswd'],
    ['policy-check.AAAA%00AAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'],
    ['%2e%2e'],
    ['policy-check.' + 'A'.repeat(900)],
    ['POLICY.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'],
  ])('answers 404 for the path trick %s', async (jobId) => {
    const me = await h.caller();
    const read = await h.app.inject({ url: `/v1/jobs/${jobId}`, headers: me.headers });
    expect(read.statusCode).toBe(404);
    expect(read.headers['content-type']).toMatch(/^application\/problem\+json/);
  });

  it('refuses a wait that is not a whole number of seconds', async () => {
    const me = await h.caller();
    const read = await h.app.inject({
      url: '/v1/jobs/policy-check.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA?wait=soon',
      headers: me.headers,
    });
    expect(read.statusCode).toBe(400);
    expect(read.json().errors[0]).toMatchObject({ in: 'querystring', pointer: '/wait' });
  });
});
