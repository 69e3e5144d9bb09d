// The delivery log and its admin API against a real Temporal and a real worker: every kind of
// answer leaves a record (unauthenticated rejections as bounded samples), admins list, filter,
// page and read them, and replay one as a new linked job; the safe mode refuses while a job of
// the delivery is running or after one succeeded, unless forced. Nobody else may look.
import { randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/bridge/app.js';
import type { GatehouseConfig } from '../../src/config/load-config.js';
import { Secret } from '../../src/core/secret.js';
import { startPostgres } from '../../src/dev/postgres.js';
import { testLogger, uniqueName, useGatehouse, testSecrets as s, type Caller } from '../helpers/gatehouse.js';
import { deliver, githubDelivery, githubExample } from '../helpers/webhooks.js';

const h = useGatehouse();
let admin: Caller;
beforeAll(async () => {
  admin = await h.caller({ groups: ['gatehouse-admins'] });
});

const push = (branch = 'main') => ({
  ...githubExample('push', (e) => e.ref === 'refs/heads/master'),
  ref: `refs/heads/${branch}`,
  after: randomBytes(20).toString('hex'),
});

async function records(query: string) {
  await h.app.deliveries.recorder.flush();
  const answer = await h.app.inject({ url: `/v1/webhooks/deliveries?${query}`, headers: admin.headers });
  expect(answer.statusCode).toBe(200);
  return answer.json() as { deliveries: Array<Record<string, unknown>>; nextPageToken: string | null };
}

async function recordOf(deliveryId: string) {
  const { deliveries } = await records(`deliveryId=${deliveryId}`);
  expect(deliveries).toHaveLength(1);
  return deliveries[0]!;
}

describe('the delivery log', () => {
  it('records an accepted delivery with its job, and the same body again as a duplicate', async () => {
    const body = push();
    const first = githubDelivery(body, { secret: s.TEST_GITHUB_SECRET, event: 'push' });
    const again = githubDelivery(body, { secret: s.TEST_GITHUB_SECRET, event: 'push' });
    const started = (await deliver(h.app, first)).json();
    expect((await deliver(h.app, again)).json().duplicate).toBe(true);

    const accepted = await recordOf(first.headers['x-github-delivery']!);
    expect(accepted).toMatchObject({
      provider: 'github',
      hook: 'default',
      event: 'push',
      repository: 'Codertocat/Hello-World',
      outcome: 'accepted',
      status: 202,
      jobId: started.jobId,
      runId: started.runId,
      route: 'git-event',
      origin: 'provider',
      replayable: true,
      sample: null,
    });
    expect(accepted.bodySha256).toMatch(/^[0-9a-f]{64}$/);
    const duplicate = await recordOf(again.headers['x-github-delivery']!);
    expect(duplicate).toMatchObject({ outcome: 'duplicate', jobId: started.jobId, status: 202 });

    const full = (await h.app.inject({ url: `/v1/webhooks/deliveries/${accepted.id}`, headers: admin.headers })).json();
    expect(full.gitEvent).toMatchObject({ provider: 'github', kind: 'push', after: body.after });
    expect(full.links.self).toBe(`/v1/jobs/${started.jobId}`);
  });

  it('records ignored deliveries with the rule reason, and rejections with theirs', async () => {
    const ignored = githubDelivery(push('feature/x'), { secret: s.TEST_GITHUB_SECRET, event: 'push' });
    expect((await deliver(h.app, ignored)).statusCode).toBe(200);
    expect(await recordOf(ignored.headers['x-github-delivery']!)).toMatchObject({
      outcome: 'ignored',
      reason: expect.stringContaining('no rule'),
      status: 200,
      jobId: null,
      replayable: true,
    });

    const forged = githubDelivery(push(), { secret: 'not-the-secret', event: 'push' });
    forged.headers['x-gitlab-event'] = 'Push Hook';
    expect((await deliver(h.app, forged)).statusCode).toBe(401);
    const rejected = await recordOf(forged.headers['x-github-delivery']!);
    expect(rejected).toMatchObject({ outcome: 'rejected', reason: 'bad_signature', status: 401, replayable: false });
    // A sample of who sent it: headers that identify a sender, never the signature; of the
    // provider headers, only the route's provider's own (its adapter's sampledHeaders).
    expect(rejected.sample).toMatchObject({
      headers: { 'x-github-event': 'push', 'user-agent': 'GitHub-Hookshot/abc123' },
    });
    expect(Object.keys((rejected.sample as { headers: object }).headers)).not.toContain('x-gitlab-event');
    expect(JSON.stringify(rejected.sample)).not.toContain('sha256=');
    expect(rejected.bodySha256).toBeNull();

    const malformed = githubDelivery(
      { ...push(), after: '--upload-pack=touch /tmp/x' },
      { secret: s.TEST_GITHUB_SECRET, event: 'push' },
    );
    expect((await deliver(h.app, malformed)).statusCode).toBe(400);
    expect(await recordOf(malformed.headers['x-github-delivery']!)).toMatchObject({
      outcome: 'rejected',
      reason: 'malformed',
      status: 400,
      sample: null,
    });
  });

  it('keeps only a bounded sample of unauthenticated rejections per hook and minute', async () => {
    const limit = h.config.webhooks.deliveryLog.rejectedSamplesPerMinute;
    const hook = 'enterprise';
    const sent: string[] = [];
    for (let i = 0; i < limit + 15; i += 1) {
      const forged = githubDelivery(push(), { secret: 'junk', event: 'push', path: '/v1/webhooks/github/enterprise' });
      sent.push(forged.headers['x-github-delivery']!);
      expect((await deliver(h.app, forged)).statusCode).toBe(401);
    }
    const { deliveries } = await records(`hook=${hook}&outcome=rejected&pageSize=100`);
    const kept = deliveries.filter((d) => sent.includes(d.deliveryId as string));
    // The minute may turn during the loop: at most two windows' worth, never all of them.
    expect(kept.length).toBeGreaterThanOrEqual(Math.min(limit, 1));
    expect(kept.length).toBeLessThanOrEqual(2 * limit);
    expect(kept.length).toBeLessThan(sent.length);
    const metrics = await h.app.metrics.registry.metrics();
    expect(metrics).toMatch(
      /gatehouse_webhook_deliveries_total\{provider="github",outcome="bad_signature"\} ([3-9][0-9]|[1-9][0-9]{2,})/,
    );
  });

  it('keeps a signed body sent again under other event names as bounded samples, and counts only its first record as seen', async () => {
    const limit = h.config.webhooks.deliveryLog.rejectedSamplesPerMinute;
    const since = new Date().toISOString();
    const body = push();
    const first = githubDelivery(body, { secret: s.TEST_GITHUB_SECRET, event: 'push' });
    expect((await deliver(h.app, first)).statusCode).toBe(202);
    // The captured body, re-sent under 60 event names and delivery ids of the sender's choosing.
    const copies = Array.from({ length: 60 }, (_, n) =>
      githubDelivery(body, { secret: s.TEST_GITHUB_SECRET, event: n % 2 === 0 ? `evt${n}` : 'pull_request' }),
    );
    for (const copy of copies) expect((await deliver(h.app, copy)).statusCode).toBeLessThan(500);

    const sent = [first, ...copies].map((d) => d.headers['x-github-delivery']!);
    const { deliveries } = await records(`hook=default&since=${since}&pageSize=100`);
    const kept = deliveries.filter((d) => sent.includes(d.deliveryId as string));
    const bodies = new Set(kept.map((d) => d.bodySha256));
    expect(bodies.size).toBe(1);
    // The first in full; the copies as samples (the minute may turn: at most two windows' worth).
    const full = kept.filter((d) => d.sample === null);
    expect(full.map((d) => d.deliveryId)).toEqual([sent[0]]);
    const samples = kept.filter((d) => d.sample !== null);
    expect(samples.length).toBeGreaterThanOrEqual(Math.min(limit, 1));
    expect(samples.length).toBeLessThanOrEqual(2 * limit);
    expect(samples.every((d) => d.replayable === false)).toBe(true);
    expect(samples[0]!.sample).toMatchObject({ headers: { 'user-agent': 'GitHub-Hookshot/abc123' } });
    // The reconciler asks the log which deliveries arrived: only the provider's own.
    expect(await h.app.deliveries.log.seen('github', 'default', sent)).toEqual(new Set([sent[0]]));
  });

  it('binds a page token to its query', async () => {
    for (let i = 0; i < 2; i += 1) {
      const delivery = githubDelivery(push(), { secret: s.TEST_GITHUB_SECRET, event: 'push' });
      expect((await deliver(h.app, delivery)).statusCode).toBe(202);
    }
    const { nextPageToken } = await records('outcome=accepted&pageSize=1');
    expect(nextPageToken).not.toBeNull();
    expect((await records(`outcome=accepted&pageSize=1&pageToken=${nextPageToken}`)).deliveries).toHaveLength(1);
    for (const other of ['outcome=rejected', 'outcome=accepted&hook=enterprise', '']) {
      const answer = await h.app.inject({
        url: `/v1/webhooks/deliveries?${other}&pageSize=1&pageToken=${nextPageToken}`,
        headers: admin.headers,
      });
      expect(answer.statusCode).toBe(400);
      expect(answer.json().code).toBe('GATEHOUSE_INVALID_PAGE_TOKEN');
    }
  });

  it('filters by outcome, repository and time, and pages without gaps or repeats', async () => {
    const since = new Date().toISOString();
    const ids: string[] = [];
    for (let i = 0; i < 5; i += 1) {
      const delivery = githubDelivery(push(), { secret: s.TEST_GITHUB_SECRET, event: 'push' });
      ids.push(delivery.headers['x-github-delivery']!);
      expect((await deliver(h.app, delivery)).statusCode).toBe(202);
    }
    const seen: string[] = [];
    let token: string | null = null;
    do {
      const page = await records(
        `outcome=accepted&repository=Codertocat/Hello-World&since=${since}&pageSize=2${token === null ? '' : `&pageToken=${token}`}`,
      );
      expect(page.deliveries.length).toBeLessThanOrEqual(2);
      seen.push(...page.deliveries.map((d) => d.deliveryId as string));
      token = page.nextPageToken;
    } while (token !== null);
    expect(seen).toEqual([...ids].reverse());
    expect((await records(`outcome=ignored&since=${since}`)).deliveries).toEqual([]);
    const bad = await h.app.inject({ url: '/v1/webhooks/deliveries?pageToken=nope', headers: admin.headers });
    expect(bad.json().code).toBe('GATEHOUSE_INVALID_PAGE_TOKEN');
  });

  it('is for admins only', async () => {
    const user = await h.caller();
    const headers = { authorization: `Bearer ${user.token}` };
    expect((await h.app.inject({ url: '/v1/webhooks/deliveries', headers })).statusCode).toBe(403);
    // Refused before the query is validated: a non-admin learns nothing from a 400.
    expect((await h.app.inject({ url: '/v1/webhooks/deliveries?pageSize=lots', headers })).statusCode).toBe(403);
    const leap = await h.app.inject({
      url: '/v1/webhooks/deliveries?since=2024-06-30T23:59:60Z',
      headers: admin.headers,
    });
    expect(leap.statusCode).toBe(400);
    expect((await h.app.inject({ url: '/v1/webhooks/deliveries' })).statusCode).toBe(401);
    const some = (await records('pageSize=1')).deliveries[0]!;
    const replay = await h.app.inject({
      method: 'POST',
      url: `/v1/webhooks/deliveries/${some.id}/replay`,
      headers,
      payload: {},
    });
    expect(replay.statusCode).toBe(403);
    const missing = await h.app.inject({
      url: '/v1/webhooks/deliveries/d000000000000000000000000',
      headers: admin.headers,
    });
    expect(missing.json().code).toBe('GATEHOUSE_DELIVERY_NOT_FOUND');
  });
});

describe('replay', () => {
  const replay = (id: string, payload: object = {}, headers: Record<string, string> = {}) =>
    h.app.inject({
      method: 'POST',
      url: `/v1/webhooks/deliveries/${id}/replay`,
      headers: { ...admin.headers, ...headers },
      payload,
    });

  it('refuses to replay a delivery whose job succeeded, unless forced; forced, starts a new linked job', async () => {
    const delivery = githubDelivery(push(), { secret: s.TEST_GITHUB_SECRET, event: 'push' });
    const original = (await deliver(h.app, delivery)).json();
    expect((await admin.read(original.jobId, { wait: 10 })).status).toBe('COMPLETED');
    const record = await recordOf(delivery.headers['x-github-delivery']!);

    const refused = await replay(record.id as string);
    expect(refused.statusCode).toBe(409);
    expect(refused.json()).toMatchObject({
      code: 'GATEHOUSE_REPLAY_UNSAFE',
      detail: expect.stringContaining('completed'),
    });

    const forced = await replay(record.id as string, { force: true }, { 'idempotency-key': 'replay-once' });
    expect(forced.statusCode).toBe(202);
    const answer = forced.json();
    expect(answer).toMatchObject({ route: 'git-event', duplicate: false, replayOf: record.id });
    expect(answer.jobId).not.toBe(original.jobId);
    const job = await admin.read(answer.jobId, { wait: 10 });
    expect(job).toMatchObject({ status: 'COMPLETED', owner: 'webhook:github:21031067', source: 'github' });
    // The new job is linked to what it replays, in Temporal and in the log.
    const memo = await h.app.temporal.call((c) => c.workflow.getHandle(answer.jobId).describe());
    expect(memo.memo?.replayOf).toMatchObject({ record: record.id, jobId: original.jobId });
    await h.app.deliveries.recorder.flush();
    const replayRecord = (
      await h.app.inject({ url: `/v1/webhooks/deliveries/${answer.record}`, headers: admin.headers })
    ).json();
    expect(replayRecord).toMatchObject({
      origin: 'replay',
      replayOf: record.id,
      jobId: answer.jobId,
      outcome: 'accepted',
    });
    expect(replayRecord.requestedBy).toMatch(/^jwt:/);

    // The same Idempotency-Key answers the same replay job.
    const again = await replay(record.id as string, { force: true }, { 'idempotency-key': 'replay-once' });
    expect(again.json()).toMatchObject({ jobId: answer.jobId, duplicate: true });
  });

  it('refuses while a job of the delivery is still running', async () => {
    // A second bridge whose routes point at a queue no worker polls: its jobs stay running.
    const queue = uniqueName('idle');
    const routes = Object.fromEntries(
      Object.entries(h.config.routes).map(([name, route]) => [name, { ...route, taskQueue: queue }]),
    );
    const app = await buildApp(bridgeConfig(h.config, { routes }), { logger: testLogger() });
    try {
      const delivery = githubDelivery(push(), { secret: s.TEST_GITHUB_SECRET, event: 'push' });
      const started = (await deliver(app, delivery)).json();
      await app.deliveries.recorder.flush();
      const { deliveries } = (
        await app.inject({
          url: `/v1/webhooks/deliveries?deliveryId=${delivery.headers['x-github-delivery']}`,
          headers: admin.headers,
        })
      ).json();
      const refused = await app.inject({
        method: 'POST',
        url: `/v1/webhooks/deliveries/${deliveries[0].id}/replay`,
        headers: admin.headers,
        payload: {},
      });
      expect(refused.json()).toMatchObject({
        code: 'GATEHOUSE_REPLAY_UNSAFE',
        detail: expect.stringContaining('running'),
      });
      expect(refused.json().detail).toContain(started.jobId);
      await app.temporal.call((c) => c.workflow.getHandle(started.jobId).terminate('test over'));
    } finally {
      await app.close();
    }
  });

  it('refuses deliveries that never verified, and events no rule starts now', async () => {
    const forged = githubDelivery(push(), { secret: 'not-the-secret', event: 'push' });
    await deliver(h.app, forged);
    const rejected = await recordOf(forged.headers['x-github-delivery']!);
    expect((await replay(rejected.id as string)).json()).toMatchObject({ code: 'GATEHOUSE_DELIVERY_NOT_REPLAYABLE' });

    const ignored = githubDelivery(push('feature/y'), { secret: s.TEST_GITHUB_SECRET, event: 'push' });
    await deliver(h.app, ignored);
    const record = await recordOf(ignored.headers['x-github-delivery']!);
    const answer = await replay(record.id as string);
    expect(answer.statusCode).toBe(409);
    expect(answer.json()).toMatchObject({
      code: 'GATEHOUSE_DELIVERY_NOT_REPLAYABLE',
      detail: expect.stringContaining('No rule'),
    });
  });

  it('shares the log between bridges on PostgreSQL: a 503 on one is replayed from the other', async () => {
    const postgres = await startPostgres();
    const shared = { deliveryLogUrl: new Secret(postgres.url) };
    // Bridge A cannot reach Temporal (a closed port); bridge B can. Both write to one log.
    const down = bridgeConfig(h.config, { ...shared, temporal: { ...h.config.temporal, address: '127.0.0.1:1' } });
    const a = await buildApp(down, { logger: testLogger() });
    const b = await buildApp(bridgeConfig(h.config, shared), { logger: testLogger() });
    try {
      const delivery = githubDelivery(push(), { secret: s.TEST_GITHUB_SECRET, event: 'push' });
      const refused = await deliver(a, delivery);
      expect(refused.statusCode).toBe(503);
      await a.deliveries.recorder.flush();
      const listed = await b.inject({
        url: `/v1/webhooks/deliveries?deliveryId=${delivery.headers['x-github-delivery']}`,
        headers: admin.headers,
      });
      const [record] = listed.json().deliveries;
      expect(record).toMatchObject({ outcome: 'unavailable', status: 503, jobId: null, replayable: true });
      // No job exists for it, so the safe mode lets it through without force.
      const answer = await b.inject({
        method: 'POST',
        url: `/v1/webhooks/deliveries/${record.id}/replay`,
        headers: admin.headers,
        payload: {},
      });
      expect(answer.statusCode).toBe(202);
      expect((await admin.read(answer.json().jobId, { wait: 10 })).status).toBe('COMPLETED');
    } finally {
      await a.close();
      await b.close();
      await postgres.stop();
    }
  });
});

/** A copy of the harness's config with some fields replaced (a second bridge of the same deployment). */
function bridgeConfig(base: GatehouseConfig, changes: Partial<GatehouseConfig>): GatehouseConfig {
  return { ...base, ...changes } as GatehouseConfig;
}
