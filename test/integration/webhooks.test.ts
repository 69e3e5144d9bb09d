// Webhook intake against a real Temporal and a real worker: each provider with real-shaped
// payloads signed by the test, tampering, wrong and foreign signatures, redeliveries and
// concurrent duplicates, form-encoded GitHub deliveries, the size cap and secret rotation.
import { randomBytes, randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createConnection } from 'node:net';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { useGatehouse, testSecrets as s, type Caller } from '../helpers/gatehouse.js';
import {
  bitbucketDelivery,
  deliver,
  fixture,
  giteaDelivery,
  githubDelivery,
  githubExample,
  gitlabDelivery,
  hmacHex,
} from '../helpers/webhooks.js';

const h = useGatehouse();
let admin: Caller;
beforeAll(async () => {
  admin = await h.caller({ groups: ['gatehouse-admins'] });
});

// Each push is a distinct event (its own head commit), so the body-keyed dedup keeps tests apart.
const pushToMain = () => ({
  ...githubExample('push', (e) => e.ref === 'refs/heads/master'),
  ref: 'refs/heads/main',
  after: randomBytes(20).toString('hex'),
});

describe('GitHub', () => {
  it('accepts a signed push, starts the mapped workflow with the normalized event, and records who sent it', async () => {
    const delivery = githubDelivery(pushToMain(), { secret: s.TEST_GITHUB_SECRET, event: 'push' });
    const answer = await deliver(h.app, delivery);
    expect(answer.statusCode).toBe(202);
    const body = answer.json();
    expect(body).toMatchObject({ route: 'git-event', duplicate: false });
    expect(body.jobId).toMatch(/^github\./);

    const job = await admin.read(body.jobId, { wait: 10 });
    expect(job).toMatchObject({
      status: 'COMPLETED',
      source: 'github',
      owner: 'webhook:github:21031067',
      workflowType: 'gitEventPolicy',
    });
    // Codertocat (account 21031067) is a maintainer in config/policies/entities.json: Cedar permits run-ci.
    expect(job.result).toMatchObject({
      decision: 'allow',
      policies: ['maintainers-run-ci'],
      repository: 'Codertocat/Hello-World',
      kind: 'push',
      ref: 'refs/heads/main',
    });

    const description = await h.app.temporal.client.workflow.getHandle(body.jobId).describe();
    expect(description.memo?.identity).toMatchObject({
      method: 'webhook',
      provider: 'github',
      hook: 'default',
      principal: 'webhook:github:21031067',
      subject: '21031067',
      login: 'Codertocat',
    });
    expect(description.memo?.request).toMatchObject({
      idempotencyKey: delivery.headers['x-github-delivery'],
      userAgent: 'GitHub-Hookshot/abc123',
    });
    const attributes = Object.fromEntries(description.typedSearchAttributes.getAll().map((p) => [p.key.name, p.value]));
    expect(attributes).toMatchObject({
      GatehouseSource: 'github',
      GatehouseRoute: 'git-event',
      GatehouseDelivery: delivery.headers['x-github-delivery'],
    });
  });

  it('owns the job as the sender principal, which no bearer token can impersonate', async () => {
    const answer = await deliver(h.app, githubDelivery(pushToMain(), { secret: s.TEST_GITHUB_SECRET, event: 'push' }));
    const { jobId } = answer.json();
    // A token whose sub spells the sender's principal is jwt:<issuer>#webhook:github:21031067.
    const lookalike = await h.caller({ sub: 'webhook:github:21031067' });
    const bearer = { authorization: `Bearer ${lookalike.token}` };
    expect((await h.app.inject({ url: `/v1/jobs/${jobId}`, headers: bearer })).statusCode).toBe(404);
    expect((await h.app.inject({ method: 'POST', url: `/v1/jobs/${jobId}/cancel`, headers: bearer })).statusCode).toBe(
      404,
    );
    const own = await h.app.inject({ url: '/v1/jobs', headers: bearer });
    expect(own.json().jobs).toEqual([]);
    const asked = await h.app.inject({
      url: `/v1/jobs?owner=${encodeURIComponent('webhook:github:21031067')}`,
      headers: bearer,
    });
    expect(asked.statusCode).toBe(403);
    // Admins do see it under the sender's principal.
    await vi.waitFor(
      async () => {
        const listed = await h.app.inject({
          url: `/v1/jobs?owner=${encodeURIComponent('webhook:github:21031067')}&pageSize=100`,
          headers: admin.headers,
        });
        expect(listed.json().jobs.map((j: { jobId: string }) => j.jobId)).toContain(jobId);
      },
      { timeout: 10_000, interval: 200 },
    );
  });

  it('names the sender by instance: the same account id on another GitHub server is someone else', async () => {
    const delivery = githubDelivery(pushToMain(), {
      secret: s.TEST_GITHUB_ENTERPRISE_SECRET,
      event: 'push',
      path: '/v1/webhooks/github/enterprise',
    });
    const answer = await deliver(h.app, delivery);
    expect(answer.statusCode).toBe(202);
    const job = await admin.read(answer.json().jobId, { wait: 10 });
    expect(job.owner).toBe('webhook:github-enterprise:21031067');
    // entities.json makes webhook:github:21031067 a maintainer, not the enterprise account.
    expect(job.result).toMatchObject({ decision: 'deny' });
  });

  it('refuses signed deliveries whose repository, ref or commit names are not plain', async () => {
    const changes: Array<Record<string, unknown>> = [
      { ref: 'refs/heads/../../etc' },
      { ref: 'refs/heads/-x' },
      { after: '--upload-pack=touch /tmp/x' },
      { repository: { ...((pushToMain() as Record<string, unknown>).repository as object), full_name: 'acme/..' } },
    ];
    for (const change of changes) {
      const answer = await deliver(
        h.app,
        githubDelivery({ ...pushToMain(), ...change }, { secret: s.TEST_GITHUB_SECRET, event: 'push' }),
      );
      expect(answer.statusCode, JSON.stringify(change)).toBe(400);
      expect(answer.json().code).toBe('GATEHOUSE_WEBHOOK_MALFORMED');
    }
  });

  it('refuses a signed delivery that names no sender account id', async () => {
    const payload = { ...pushToMain(), sender: { login: 'Codertocat' } };
    const answer = await deliver(h.app, githubDelivery(payload, { secret: s.TEST_GITHUB_SECRET, event: 'push' }));
    expect(answer.statusCode).toBe(400);
    expect(answer.json().code).toBe('GATEHOUSE_WEBHOOK_MALFORMED');
  });

  it('answers a redelivery with the same job, and concurrent duplicates start one workflow', async () => {
    const delivery = githubDelivery(pushToMain(), { secret: s.TEST_GITHUB_SECRET, event: 'push' });
    const answers = await Promise.all(Array.from({ length: 6 }, () => deliver(h.app, delivery)));
    expect(answers.map((a) => a.statusCode)).toEqual(Array(6).fill(202));
    expect(new Set(answers.map((a) => a.json().jobId)).size).toBe(1);
    expect(new Set(answers.map((a) => a.json().runId)).size).toBe(1);
    expect(answers.filter((a) => a.json().duplicate === false)).toHaveLength(1);
    const redelivery = await deliver(h.app, delivery);
    expect(redelivery.json()).toMatchObject({ jobId: answers[0]!.json().jobId, duplicate: true });
  });

  it('keys on the signed body: a replay under a new delivery id or hook id header starts nothing', async () => {
    const body = pushToMain();
    const first = await deliver(
      h.app,
      githubDelivery(body, { secret: s.TEST_GITHUB_SECRET, event: 'push', hookId: '1' }),
    );
    expect(first.json()).toMatchObject({ duplicate: false });
    const replayed = await deliver(
      h.app,
      githubDelivery(body, { secret: s.TEST_GITHUB_SECRET, event: 'push', delivery: randomUUID(), hookId: '2' }),
    );
    expect(replayed.json()).toMatchObject({ jobId: first.json().jobId, duplicate: true });
  });

  it('answers an unsigned delivery without waiting for its body', async () => {
    // Headers announce 20 MB and no body ever follows: only a check made before reading the
    // body can answer at all.
    const address = new URL(await h.app.listen({ host: '127.0.0.1', port: 0 }));
    const socket = createConnection({ host: address.hostname, port: Number(address.port) });
    socket.write(
      [
        'POST /v1/webhooks/github HTTP/1.1',
        `Host: ${address.host}`,
        'Content-Type: application/json',
        'Content-Length: 20000000',
        'X-GitHub-Event: push',
        `X-GitHub-Delivery: ${randomUUID()}`,
        '',
        '',
      ].join('\r\n'),
    );
    const [chunk] = (await once(socket, 'data')) as [Buffer];
    socket.destroy();
    expect(chunk.toString('utf8')).toMatch(/^HTTP\/1\.1 401 /);
    expect(chunk.toString('utf8')).toContain('GATEHOUSE_WEBHOOK_SIGNATURE_INVALID');
  });

  it('refuses a signed body replayed under another event header', async () => {
    const answer = await deliver(
      h.app,
      githubDelivery(pushToMain(), { secret: s.TEST_GITHUB_SECRET, event: 'pull_request' }),
    );
    expect(answer.statusCode).toBe(400);
    expect(answer.json().code).toBe('GATEHOUSE_WEBHOOK_MALFORMED');
  });

  it('refuses over-long delivery headers and unsigned requests before reading the body', async () => {
    const long = githubDelivery(pushToMain(), {
      secret: s.TEST_GITHUB_SECRET,
      event: 'push',
      delivery: 'd'.repeat(30_000),
    });
    const answer = await deliver(h.app, long);
    expect(answer.statusCode).toBe(400);
    expect(answer.json().code).toBe('GATEHOUSE_WEBHOOK_MALFORMED');
    // No signature header at all: 401 without the body being parsed (a body that is not even JSON).
    const unsigned = await h.app.inject({
      method: 'POST',
      url: '/v1/webhooks/github',
      payload: 'x'.repeat(1000),
      headers: { 'content-type': 'application/json', 'x-github-event': 'push', 'x-github-delivery': randomUUID() },
    });
    expect(unsigned.statusCode).toBe(401);
    expect(unsigned.json().code).toBe('GATEHOUSE_WEBHOOK_SIGNATURE_INVALID');
  });

  it('accepts a form-encoded delivery, verified over the form body as sent', async () => {
    const answer = await deliver(
      h.app,
      githubDelivery(pushToMain(), { secret: s.TEST_GITHUB_SECRET, event: 'push', form: true }),
    );
    expect(answer.statusCode).toBe(202);
    expect((await admin.read(answer.json().jobId, { wait: 10 })).result).toMatchObject({
      repository: 'Codertocat/Hello-World',
      ref: 'refs/heads/main',
    });
  });

  it('accepts both active secrets during a rotation, and no other', async () => {
    expect(
      (await deliver(h.app, githubDelivery(pushToMain(), { secret: s.TEST_GITHUB_SECRET_NEXT, event: 'push' })))
        .statusCode,
    ).toBe(202);
    expect(
      (await deliver(h.app, githubDelivery(pushToMain(), { secret: 'retired-secret', event: 'push' }))).statusCode,
    ).toBe(401);
  });

  it('refuses a tampered body, a missing signature, a SHA-1-only signature and a malformed one', async () => {
    const good = githubDelivery(pushToMain(), { secret: s.TEST_GITHUB_SECRET, event: 'push' });
    const tampered = { ...good, body: good.body.replace('Codertocat/Hello-World', 'Codertocat/Hello-Worle') };
    const unsigned = { ...good, headers: { ...good.headers, 'x-hub-signature-256': '' } };
    const sha1Only = {
      ...good,
      headers: {
        ...Object.fromEntries(Object.entries(good.headers).filter(([k]) => k !== 'x-hub-signature-256')),
        'x-hub-signature': 'sha1=0000000000000000000000000000000000000000',
      },
    };
    const malformed = { ...good, headers: { ...good.headers, 'x-hub-signature-256': 'sha256=zz' } };
    for (const delivery of [tampered, unsigned, sha1Only, malformed]) {
      const answer = await deliver(h.app, delivery);
      expect(answer.statusCode).toBe(401);
      expect(answer.json().code).toBe('GATEHOUSE_WEBHOOK_SIGNATURE_INVALID');
    }
  });

  it('refuses a Bitbucket-style signature header on the GitHub route', async () => {
    const good = githubDelivery(pushToMain(), { secret: s.TEST_GITHUB_SECRET, event: 'push' });
    const { 'x-hub-signature-256': signature, ...rest } = good.headers;
    const answer = await deliver(h.app, { ...good, headers: { ...rest, 'x-hub-signature': signature! } });
    expect(answer.statusCode).toBe(401);
  });

  it('answers ping and filtered events with 200 {ignored} and starts nothing', async () => {
    const ping = await deliver(
      h.app,
      githubDelivery(githubExample('ping'), { secret: s.TEST_GITHUB_SECRET, event: 'ping' }),
    );
    expect(ping.statusCode).toBe(200);
    expect(ping.json()).toEqual({ ignored: 'ping' });
    const toMaster = await deliver(
      h.app,
      githubDelivery(
        githubExample('push', (e) => e.ref === 'refs/heads/master'),
        { secret: s.TEST_GITHUB_SECRET, event: 'push' },
      ),
    );
    expect(toMaster.statusCode).toBe(200);
    expect(toMaster.json().ignored).toMatch(/no rule matches push/);
    const assigned = await deliver(
      h.app,
      githubDelivery(
        githubExample('pull_request', (e) => e.action === 'assigned'),
        { secret: s.TEST_GITHUB_SECRET, event: 'pull_request' },
      ),
    );
    expect(assigned.json().ignored).toBeDefined();
    const metrics = await h.app.metrics.registry.metrics();
    expect(metrics).toMatch(/gatehouse_webhook_deliveries_total\{provider="github",outcome="ignored"\} [3-9]/);
  });

  it('maps an opened pull request with its number and branches', async () => {
    const answer = await deliver(
      h.app,
      githubDelivery(
        githubExample('pull_request', (e) => e.action === 'opened'),
        { secret: s.TEST_GITHUB_SECRET, event: 'pull_request' },
      ),
    );
    expect(answer.statusCode).toBe(202);
    const description = await h.app.temporal.client.workflow.getHandle(answer.json().jobId).describe();
    expect(description.memo?.identity).toMatchObject({ principal: 'webhook:github:21031067' });
    const job = await admin.read(answer.json().jobId, { wait: 10 });
    expect(job.result).toMatchObject({ kind: 'pull_request', ref: 'refs/heads/changes' });
  });

  it('serves a second hook at its own path with its own secret', async () => {
    const payload = githubExample('push', (e) => e.ref === 'refs/heads/master');
    const own = await deliver(
      h.app,
      githubDelivery(payload, {
        secret: s.TEST_GITHUB_ENTERPRISE_SECRET,
        event: 'push',
        path: '/v1/webhooks/github/enterprise',
      }),
    );
    expect(own.statusCode).toBe(202);
    const otherSecret = await deliver(
      h.app,
      githubDelivery(payload, { secret: s.TEST_GITHUB_SECRET, event: 'push', path: '/v1/webhooks/github/enterprise' }),
    );
    expect(otherSecret.statusCode).toBe(401);
    // (A body over the global cap to an unknown path is refused with 413 before routing; small here.)
    const unknown = await deliver(
      h.app,
      githubDelivery({ zen: 'x' }, { secret: s.TEST_GITHUB_SECRET, event: 'ping', path: '/v1/webhooks/github/nope' }),
    );
    expect(unknown.statusCode).toBe(404);
  });

  it('takes a body just under the cap and normalizes it to a small workflow input; refuses one over it with 413', async () => {
    const cap = h.config.webhooks.maxBodyBytes;
    const base = pushToMain();
    const padding = 'x'.repeat(cap - JSON.stringify({ ...base, padding: '' }).length - 64);
    const under = githubDelivery({ ...base, padding }, { secret: s.TEST_GITHUB_SECRET, event: 'push' });
    expect(Buffer.byteLength(under.body)).toBeLessThan(cap);
    expect(Buffer.byteLength(under.body)).toBeGreaterThan(cap - 200);
    const accepted = await deliver(h.app, under);
    expect(accepted.statusCode).toBe(202);
    const history = await h.app.temporal.client.workflow.getHandle(accepted.json().jobId).fetchHistory();
    const input = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0]?.data;
    expect(input?.length).toBeLessThan(4_096);

    const over = githubDelivery(
      { ...base, padding: `${padding}${'y'.repeat(512)}` },
      { secret: s.TEST_GITHUB_SECRET, event: 'push' },
    );
    const refused = await deliver(h.app, over);
    expect(refused.statusCode).toBe(413);
    expect(refused.json().code).toBe('GATEHOUSE_BODY_TOO_LARGE');
  });

  it('answers 400 to a signed delivery without event headers, and to a signed body that is not JSON', async () => {
    const good = githubDelivery(pushToMain(), { secret: s.TEST_GITHUB_SECRET, event: 'push' });
    const noEvent = Object.fromEntries(Object.entries(good.headers).filter(([name]) => name !== 'x-github-event'));
    expect((await deliver(h.app, { ...good, headers: noEvent })).statusCode).toBe(400);
    const notJson = '{not json';
    const answer = await deliver(h.app, {
      ...good,
      body: notJson,
      headers: { ...good.headers, 'x-hub-signature-256': `sha256=${hmacHex(s.TEST_GITHUB_SECRET, notJson)}` },
    });
    expect(answer.statusCode).toBe(400);
    expect(answer.json().code).toBe('GATEHOUSE_WEBHOOK_MALFORMED');
  });
});

describe('GitLab', () => {
  it('accepts a push with the right token; a resend with the same Idempotency-Key answers the same job', async () => {
    const key = randomUUID();
    const first = await deliver(
      h.app,
      gitlabDelivery(fixture('gitlab-push'), { token: s.TEST_GITLAB_TOKEN, event: 'Push Hook', idempotencyKey: key }),
    );
    expect(first.statusCode).toBe(202);
    // A resend has a new event UUID but keeps the Idempotency-Key.
    const resend = await deliver(
      h.app,
      gitlabDelivery(fixture('gitlab-push'), { token: s.TEST_GITLAB_TOKEN, event: 'Push Hook', idempotencyKey: key }),
    );
    expect(resend.json()).toMatchObject({ jobId: first.json().jobId, duplicate: true });
    const job = await admin.read(first.json().jobId, { wait: 10 });
    expect(job).toMatchObject({ source: 'gitlab', owner: 'webhook:gitlab:4' });
    expect(job.result).toMatchObject({
      decision: 'allow',
      repository: 'mike/diaspora',
      kind: 'push',
      ref: 'refs/heads/main',
    });
  });

  it('refuses a wrong or missing token', async () => {
    for (const token of ['wrong', '']) {
      const answer = await deliver(h.app, gitlabDelivery(fixture('gitlab-push'), { token, event: 'Push Hook' }));
      expect(answer.statusCode).toBe(401);
    }
  });

  it('maps a merge request and denies CI to a sender who is not a maintainer', async () => {
    const answer = await deliver(
      h.app,
      gitlabDelivery(fixture('gitlab-merge-request'), { token: s.TEST_GITLAB_TOKEN, event: 'Merge Request Hook' }),
    );
    expect(answer.statusCode).toBe(202);
    const job = await admin.read(answer.json().jobId, { wait: 10 });
    expect(job.result).toMatchObject({
      decision: 'deny',
      kind: 'pull_request',
      ref: 'refs/heads/ms-viewport',
      sender: 'webhook:gitlab:1',
      senderLogin: 'root',
    });
  });

  it('requires the signing-token signature on a hook that has signing secrets', async () => {
    const path = '/v1/webhooks/gitlab/signed';
    const signed = await deliver(
      h.app,
      gitlabDelivery(fixture('gitlab-push'), {
        token: s.TEST_GITLAB_TOKEN,
        event: 'Push Hook',
        signingSecret: s.TEST_GITLAB_SIGNING_SECRET,
        path,
      }),
    );
    expect(signed.statusCode).toBe(202);
    const unsigned = await deliver(
      h.app,
      gitlabDelivery(fixture('gitlab-push'), { token: s.TEST_GITLAB_TOKEN, event: 'Push Hook', path }),
    );
    expect(unsigned.statusCode).toBe(401);
    const otherKey = `whsec_${Buffer.from('another-signing-key-0123456789abcd').toString('base64')}`;
    const wrong = await deliver(
      h.app,
      gitlabDelivery(fixture('gitlab-push'), {
        token: s.TEST_GITLAB_TOKEN,
        event: 'Push Hook',
        signingSecret: otherKey,
        path,
      }),
    );
    expect(wrong.statusCode).toBe(401);
  });
});

describe('Gitea and Forgejo', () => {
  it('accepts a push signed in either header family, and refuses a tampered one', async () => {
    const gitea = await deliver(
      h.app,
      giteaDelivery(fixture('gitea-push'), { secret: s.TEST_GITEA_SECRET, event: 'push' }),
    );
    expect(gitea.statusCode).toBe(202);
    expect((await admin.read(gitea.json().jobId, { wait: 10 })).result).toMatchObject({
      repository: 'gitea/webhooks',
      after: 'bffeb74224043ba2feb48d137756c8a9331c449a',
    });
    const forgejo = await deliver(
      h.app,
      giteaDelivery(fixture('gitea-push'), { secret: s.TEST_GITEA_SECRET, event: 'push', forgejo: true }),
    );
    expect(forgejo.statusCode).toBe(202);
    const good = giteaDelivery(fixture('gitea-push'), { secret: s.TEST_GITEA_SECRET, event: 'push' });
    expect((await deliver(h.app, { ...good, body: good.body.replace('main', 'evil') })).statusCode).toBe(401);
  });
});

describe('Bitbucket Cloud', () => {
  it('accepts a push to a matching repository, ignores others and the diagnostics ping', async () => {
    const accepted = await deliver(
      h.app,
      bitbucketDelivery(fixture('bitbucket-push'), { secret: s.TEST_BITBUCKET_SECRET, event: 'repo:push' }),
    );
    expect(accepted.statusCode).toBe(202);
    expect((await admin.read(accepted.json().jobId, { wait: 10 })).result).toMatchObject({
      repository: 'acme/api',
      kind: 'push',
      ref: 'refs/heads/main',
      sender: 'webhook:bitbucket:557058:abc',
      senderLogin: 'emma',
    });
    const elsewhere = { ...fixture('bitbucket-push'), repository: { full_name: 'other/repo' } };
    expect(
      (
        await deliver(h.app, bitbucketDelivery(elsewhere, { secret: s.TEST_BITBUCKET_SECRET, event: 'repo:push' }))
      ).json().ignored,
    ).toBeDefined();
    const ping = await deliver(
      h.app,
      bitbucketDelivery({}, { secret: s.TEST_BITBUCKET_SECRET, event: 'diagnostics:ping' }),
    );
    expect(ping.json()).toEqual({ ignored: 'ping' });
  });

  it('refuses a GitHub-style X-Hub-Signature-256 on the Bitbucket route', async () => {
    const good = bitbucketDelivery(fixture('bitbucket-push'), { secret: s.TEST_BITBUCKET_SECRET, event: 'repo:push' });
    const { 'x-hub-signature': signature, ...rest } = good.headers;
    const answer = await deliver(h.app, { ...good, headers: { ...rest, 'x-hub-signature-256': signature! } });
    expect(answer.statusCode).toBe(401);
  });
});
