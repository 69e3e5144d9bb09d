// The GitHub and GitLab fakes the reconciler's tests run against: that they deliver, list, page,
// redeliver, authenticate, limit and disable hooks as the real services do, and that the GitHub
// fake's answers are held to GitHub's published OpenAPI description.
import { createHmac } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAppAuth } from '@octokit/auth-app';
import { exportPKCS8, exportSPKI, generateKeyPair, SignJWT } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import {
  fakeGitHubOperations,
  startFakeGitHub,
  type FakeGitHub,
  type GitHubDelivery,
  type GitHubHook,
} from '../helpers/fake-github.js';
import { startFakeGitLabHooks, type FakeGitLabHooks, type GitLabHook } from '../helpers/fake-gitlab-hooks.js';
import { checkGitHubResponse, gitHubOperation } from '../helpers/openapi-check.js';

const token = 'ghp_fake';
const repoHook = { kind: 'repository', owner: 'Acme', repo: 'Widgets', hookId: 7 } as const;
const orgHook = { kind: 'organization', org: 'acme', hookId: 8 } as const;

interface Received {
  headers: IncomingHttpHeaders;
  body: Buffer;
}

interface Receiver {
  url: string;
  received: Received[];
  answerWith(status: number): void;
}

const cleanups: Array<() => Promise<void> | void> = [];
const githubs: FakeGitHub[] = [];

afterEach(async () => {
  // Every answer a test got from the GitHub fake matched GitHub's description.
  const violations = githubs.flatMap((g) => g.schemaViolations);
  githubs.length = 0;
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  expect(violations).toEqual([]);
});

async function listen(server: Server): Promise<string> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  cleanups.push(() => {
    server.closeAllConnections();
    server.close();
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
}

async function startReceiver(status = 200): Promise<Receiver> {
  const received: Received[] = [];
  let answer = status;
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      received.push({ headers: request.headers, body: Buffer.concat(chunks) });
      response.writeHead(answer, { 'content-type': 'text/plain' }).end(answer < 400 ? 'ok' : 'unavailable');
    });
  });
  return { url: await listen(server), received, answerWith: (code) => (answer = code) };
}

/** A URL nothing listens on. */
async function deadUrl(): Promise<string> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  server.close();
  await once(server, 'close');
  return `http://127.0.0.1:${port}/hook`;
}

async function until<T>(probe: () => T | undefined | false, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

async function github(hooks: GitHubHook[], deliveryTimeoutMs?: number): Promise<FakeGitHub> {
  const fake = await startFakeGitHub({
    token,
    hooks,
    ...(deliveryTimeoutMs === undefined ? {} : { deliveryTimeoutMs }),
  });
  githubs.push(fake);
  cleanups.push(() => fake.close());
  return fake;
}

async function call(base: string, method: string, path: string, authorization?: string) {
  const response = await fetch(base + path, {
    method,
    headers: authorization === undefined ? {} : { authorization },
  });
  return { status: response.status, headers: response.headers, body: (await response.json()) as unknown };
}

const nextLink = (link: string | null) => (link === null ? undefined : /<([^>]+)>;\s*rel="next"/.exec(link)?.[1]);
const deliveriesPath = '/repos/Acme/Widgets/hooks/7/deliveries';

describe('fake GitHub', () => {
  it('serves exactly the paths GitHub describes for the delivery operations', () => {
    for (const [operationId, route] of Object.entries(fakeGitHubOperations)) {
      const described = gitHubOperation(operationId);
      expect(route, operationId).toBe(`${described.method} ${described.path}`);
    }
  });

  it('lists deliveries newest first, a page at a time, following the Link header', async () => {
    const receiver = await startReceiver();
    const fake = await github([{ ...repoHook, url: receiver.url, secret: 's' }]);
    const sent: GitHubDelivery[] = [];
    for (let i = 0; i < 5; i += 1) {
      receiver.answerWith(i % 2 === 0 ? 200 : 503);
      sent.push(await fake.send(repoHook, 'issues', { action: 'opened', repository: { id: 42 }, issue: { n: i } }));
    }

    const pages: GitHubDelivery[][] = [];
    let next: string | undefined = `${fake.url}${deliveriesPath}?per_page=2`;
    while (next !== undefined) {
      const response = await fetch(next, { headers: { authorization: `Bearer ${token}` } });
      expect(response.status).toBe(200);
      pages.push((await response.json()) as GitHubDelivery[]);
      next = nextLink(response.headers.get('link'));
    }
    expect(pages.map((p) => p.length)).toEqual([2, 2, 1]);
    expect(pages.flat().map((d) => d.id)).toEqual(sent.map((d) => d.id).reverse());
    expect(new Set(pages.flat().map((d) => d.guid)).size).toBe(5);
    expect(pages[0]![0]).toEqual({
      id: sent[4]!.id,
      guid: sent[4]!.guid,
      delivered_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/),
      redelivery: false,
      duration: expect.any(Number),
      status: 'OK',
      status_code: 200,
      event: 'issues',
      action: 'opened',
      installation_id: null,
      repository_id: 42,
      throttled_at: null,
    });

    const one = await call(fake.url, 'GET', `${deliveriesPath}/${sent[1]!.id}`, `Bearer ${token}`);
    expect(one.status).toBe(200);
    expect(one.body).toMatchObject({
      id: sent[1]!.id,
      status: 'Invalid HTTP Response: 503',
      status_code: 503,
      request: { payload: { action: 'opened', issue: { n: 1 } } },
      response: { payload: 'unavailable' },
    });
    expect((one.body as GitHubDelivery).request.headers['X-GitHub-Delivery']).toBe(sent[1]!.guid);
    expect((await call(fake.url, 'GET', `${deliveriesPath}/1`, `Bearer ${token}`)).status).toBe(404);
  });

  it('filters by outcome and keeps the filter in the next link', async () => {
    const receiver = await startReceiver();
    const fake = await github([{ ...repoHook, url: receiver.url, secret: 's' }]);
    for (const code of [200, 503, 404, 202, 500]) {
      receiver.answerWith(code);
      await fake.send(repoHook, 'push', { ref: 'refs/heads/main' });
    }
    const failures = await fetch(`${fake.url}${deliveriesPath}?status=failure&per_page=2`, {
      headers: { authorization: `token ${token}` },
    });
    expect(((await failures.json()) as GitHubDelivery[]).map((d) => d.status_code)).toEqual([500, 404]);
    const next = nextLink(failures.headers.get('link'));
    expect(next).toContain('status=failure');
    const rest = await fetch(next!, { headers: { authorization: `token ${token}` } });
    expect(((await rest.json()) as GitHubDelivery[]).map((d) => d.status_code)).toEqual([503]);
    expect(rest.headers.get('link')).toBeNull();

    const successes = await call(fake.url, 'GET', `${deliveriesPath}?status=success`, `Bearer ${token}`);
    expect((successes.body as GitHubDelivery[]).map((d) => d.status_code)).toEqual([202, 200]);
    expect((successes.body as GitHubDelivery[])[0]!.status).toBe('Accepted');
  });

  it('refuses bad credentials, unknown hooks and parameters the description rejects', async () => {
    const fake = await github([
      { ...repoHook, url: await deadUrl(), secret: 's' },
      { ...orgHook, url: await deadUrl(), secret: 's' },
    ]);
    expect(await call(fake.url, 'GET', deliveriesPath, 'Bearer nope')).toMatchObject({
      status: 401,
      body: { message: 'Bad credentials', documentation_url: expect.stringContaining('docs.github.com') },
    });
    expect(await call(fake.url, 'GET', deliveriesPath)).toMatchObject({
      status: 401,
      body: { message: 'Requires authentication' },
    });
    expect((await call(fake.url, 'GET', '/orgs/ACME/hooks/8/deliveries', `token ${token}`)).status).toBe(200);
    expect(await call(fake.url, 'GET', '/orgs/acme/hooks/9/deliveries', `token ${token}`)).toMatchObject({
      status: 404,
      body: { message: 'Not Found' },
    });
    const badPage = await call(fake.url, 'GET', `${deliveriesPath}?per_page=abc`, `Bearer ${token}`);
    expect(badPage.status).toBe(422);
    expect((badPage.body as { message: string }).message).toContain("'properties/per_page'");
    expect((await call(fake.url, 'GET', `${deliveriesPath}?status=bogus`, `Bearer ${token}`)).status).toBe(422);
  });

  it('takes an App JWT on the App endpoints, as @octokit/auth-app signs it', async () => {
    const receiver = await startReceiver();
    const { publicKey, privateKey } = await generateKeyPair('RS256', { extractable: true });
    const appId = 1234;
    const fake = await github([{ kind: 'app', appId, url: receiver.url, secret: 'app-secret', publicKey }]);
    const delivery = await fake.send({ kind: 'app', appId }, 'installation', {
      action: 'created',
      installation: { id: 99 },
    });
    expect(receiver.received[0]!.headers['x-github-hook-installation-target-type']).toBe('integration');
    expect(receiver.received[0]!.headers['x-github-hook-installation-target-id']).toBe('1234');

    const auth = createAppAuth({ appId, privateKey: await exportPKCS8(privateKey) });
    const { token: jwt } = await auth({ type: 'app' });
    const listed = await call(fake.url, 'GET', '/app/hook/deliveries', `Bearer ${jwt}`);
    expect(listed.status).toBe(200);
    expect(listed.body).toMatchObject([{ id: delivery.id, installation_id: 99, action: 'created' }]);

    // The public key may also be given as PEM.
    const pem = await github([
      { kind: 'app', appId, url: receiver.url, secret: 's', publicKey: await exportSPKI(publicKey) },
    ]);
    expect((await call(pem.url, 'GET', '/app/hook/deliveries', `Bearer ${jwt}`)).status).toBe(200);

    const now = Math.floor(Date.now() / 1000);
    const other = await generateKeyPair('RS256');
    const forged = await new SignJWT({})
      .setProtectedHeader({ alg: 'RS256' })
      .setIssuer(String(appId))
      .setIssuedAt(now - 30)
      .setExpirationTime(now + 300)
      .sign(other.privateKey);
    const tooLong = await new SignJWT({})
      .setProtectedHeader({ alg: 'RS256' })
      .setIssuer(String(appId))
      .setIssuedAt(now - 30)
      .setExpirationTime(now + 3600)
      .sign(privateKey);
    for (const authorization of [`Bearer ${forged}`, `Bearer ${tooLong}`, `Bearer ${token}`]) {
      expect((await call(fake.url, 'GET', '/app/hook/deliveries', authorization)).status).toBe(401);
    }
  });

  it('answers 403 once the rate limit is spent, until the reset time, with GitHub headers', async () => {
    const fake = await github([{ ...repoHook, url: await deadUrl(), secret: 's' }]);
    const fresh = await call(fake.url, 'GET', deliveriesPath, `Bearer ${token}`);
    expect(Object.fromEntries([...fresh.headers].filter(([name]) => name.startsWith('x-ratelimit-')))).toEqual({
      'x-ratelimit-limit': '5000',
      'x-ratelimit-remaining': '4999',
      'x-ratelimit-reset': expect.stringMatching(/^\d+$/),
      'x-ratelimit-used': '1',
      'x-ratelimit-resource': 'core',
    });

    fake.limitRate({ remaining: 1, resetInSeconds: 1 });
    const last = await call(fake.url, 'GET', deliveriesPath, `Bearer ${token}`);
    expect([last.status, last.headers.get('x-ratelimit-remaining')]).toEqual([200, '0']);
    const refused = await call(fake.url, 'GET', deliveriesPath, `Bearer ${token}`);
    expect(refused.status).toBe(403);
    expect(refused.headers.get('x-ratelimit-remaining')).toBe('0');
    expect(refused.body).toMatchObject({
      message: expect.stringMatching(/^API rate limit exceeded for /),
      documentation_url: 'https://docs.github.com/rest/overview/resources-in-the-rest-api#rate-limiting',
    });
    expect(fake.rateLimited).toBe(1);

    const resetAt = Number(refused.headers.get('x-ratelimit-reset')) * 1000;
    await until(() => Date.now() >= resetAt, 3000);
    const recovered = await call(fake.url, 'GET', deliveriesPath, `Bearer ${token}`);
    expect(recovered.status).toBe(200);
    expect(recovered.headers.get('x-ratelimit-remaining')).toBe('4999');
    expect(fake.calls.at(-1)!.at).toBeGreaterThanOrEqual(resetAt);
    expect(fake.calls.map((c) => c.path)).toEqual(Array(4).fill(deliveriesPath));
  });

  it('answers 429 with retry-after for a secondary limit, then serves again', async () => {
    const fake = await github([{ ...repoHook, url: await deadUrl(), secret: 's' }]);
    fake.secondaryLimitNext(3);
    const refused = await call(fake.url, 'GET', deliveriesPath, `Bearer ${token}`);
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('3');
    expect(Number(refused.headers.get('x-ratelimit-remaining'))).toBeGreaterThan(0);
    expect((await call(fake.url, 'GET', deliveriesPath, `Bearer ${token}`)).status).toBe(200);
    expect(fake.rateLimited).toBe(1);
  });

  it('redelivers the same bytes under the same guid to the current url, as a new delivery', async () => {
    const first = await startReceiver(503);
    const second = await startReceiver(200);
    const secret = 'repo-secret';
    const fake = await github([{ ...repoHook, url: first.url, secret }]);
    const failed = await fake.send(repoHook, 'push', { ref: 'refs/heads/main', repository: { id: 42 } });
    expect([failed.status_code, failed.redelivery]).toEqual([503, false]);

    fake.setHookUrl(repoHook, second.url);
    const accepted = await call(fake.url, 'POST', `${deliveriesPath}/${failed.id}/attempts`, `Bearer ${token}`);
    expect(accepted).toMatchObject({ status: 202, body: {} });
    expect(fake.redeliveryRequests).toEqual([
      { hook: 'repos/acme/widgets/7', deliveryId: failed.id, at: expect.any(Number) },
    ]);
    await fake.settled();

    const [again] = fake.deliveries(repoHook);
    expect(again).toMatchObject({ guid: failed.guid, redelivery: true, status_code: 200, status: 'OK' });
    expect(again!.id).toBeGreaterThan(failed.id);
    const [original] = first.received;
    const [redelivered] = second.received;
    expect(redelivered!.body.equals(original!.body)).toBe(true);
    expect(redelivered!.headers['x-github-delivery']).toBe(failed.guid);
    expect(redelivered!.headers['x-github-event']).toBe('push');
    expect(redelivered!.headers['x-github-hook-id']).toBe('7');
    expect(redelivered!.headers['user-agent']).toBe('GitHub-Hookshot/fake');
    expect(redelivered!.headers['x-hub-signature-256']).toBe(
      `sha256=${createHmac('sha256', secret).update(redelivered!.body).digest('hex')}`,
    );

    const listed = await call(fake.url, 'GET', `${deliveriesPath}?status=success`, `Bearer ${token}`);
    expect(listed.body).toMatchObject([{ id: again!.id, guid: failed.guid, redelivery: true }]);
  });

  it('records an unreachable receiver as 502 "failed to connect to host", a hung one as 504', async () => {
    const hung = createServer(() => undefined);
    const fake = await github(
      [
        { ...repoHook, url: await deadUrl(), secret: 's' },
        { ...orgHook, url: await listen(hung), secret: 's' },
      ],
      300,
    );
    const down = await fake.send(repoHook, 'push', { ref: 'refs/heads/main' });
    expect(down).toMatchObject({
      status: 'failed to connect to host',
      status_code: 502,
      response: { headers: null, payload: null },
    });
    const slow = await fake.send(orgHook, 'push', { ref: 'refs/heads/main' });
    expect([slow.status, slow.status_code]).toEqual(['timed out', 504]);

    const failures = await call(fake.url, 'GET', `${deliveriesPath}?status=failure`, `Bearer ${token}`);
    expect(failures.body).toMatchObject([{ id: down.id, status_code: 502 }]);
    expect((await call(fake.url, 'GET', `${deliveriesPath}/${down.id}`, `Bearer ${token}`)).status).toBe(200);
  });

  it('reports a body that drifts from the description instead of answering it', async () => {
    const valid = {
      id: 1,
      guid: '0b989ba4-242f-11e5-81e1-c7b6966d2516',
      delivered_at: '2019-06-03T00:57:16Z',
      redelivery: false,
      duration: 0.27,
      status: 'OK',
      status_code: 200,
      event: 'issues',
      action: null,
      installation_id: null,
      repository_id: null,
    };
    expect(checkGitHubResponse('repos/list-webhook-deliveries', 200, [valid])).toEqual([]);
    expect(checkGitHubResponse('repos/list-webhook-deliveries', 200, [{ ...valid, status_code: 'oops' }])).toEqual([
      expect.objectContaining({ instancePath: '/0/status_code', message: 'must be integer' }),
    ]);
    const { guid: _guid, ...withoutGuid } = valid;
    expect(checkGitHubResponse('orgs/list-webhook-deliveries', 200, [withoutGuid])).toEqual([
      expect.objectContaining({ keyword: 'required', params: { missingProperty: 'guid' } }),
    ]);
    expect(checkGitHubResponse('apps/get-webhook-delivery', 200, valid)).toEqual([
      expect.objectContaining({ params: { missingProperty: 'request' } }),
      expect.objectContaining({ params: { missingProperty: 'response' } }),
    ]);
    expect(checkGitHubResponse('repos/redeliver-webhook-delivery', 202, [])).not.toEqual([]);
    expect(checkGitHubResponse('repos/redeliver-webhook-delivery', 200, {})).toEqual([
      expect.objectContaining({ keyword: 'status' }),
    ]);

    // And the fake itself answers a drifted body with a 500 and a recorded violation.
    const receiver = await startReceiver();
    const fake = await github([{ ...repoHook, url: receiver.url, secret: 's' }]);
    await fake.send(repoHook, 'push', { ref: 'refs/heads/main' });
    fake.corruptNextResponse((body) => (body as object[]).map((d) => ({ ...d, delivered_at: 'yesterday' })));
    const drifted = await call(fake.url, 'GET', deliveriesPath, `Bearer ${token}`);
    expect(drifted.status).toBe(500);
    expect(fake.schemaViolations).toEqual([
      {
        operationId: 'repos/list-webhook-deliveries',
        status: 200,
        body: expect.any(Array),
        errors: [expect.objectContaining({ instancePath: '/0/delivered_at', keyword: 'format' })],
      },
    ]);
    fake.schemaViolations.length = 0;
  });
});

const projectHook: GitLabHook = { projectId: 11, projectPath: 'group/name', hookId: 3, url: '', token: 'glt-secret' };
const ref = { projectId: 11, hookId: 3 };
const privateToken = 'glpat-fake';

async function gitlab(url: string, extra: { backoffMs?: number } = {}): Promise<FakeGitLabHooks> {
  const fake = await startFakeGitLabHooks({ privateToken, hooks: [{ ...projectHook, url }], ...extra });
  cleanups.push(() => fake.close());
  return fake;
}

async function gitlabCall(fake: FakeGitLabHooks, method: string, path: string) {
  const response = await fetch(`${fake.url}/api/v4${path}`, { method, headers: { 'private-token': privateToken } });
  return { status: response.status, headers: response.headers, body: (await response.json()) as unknown };
}

describe('fake GitLab project hooks', () => {
  it('delivers like GitLab and temporarily disables the hook after 4 failures in a row', async () => {
    const receiver = await startReceiver(503);
    const fake = await gitlab(receiver.url);
    for (let i = 0; i < 3; i += 1) await fake.send(ref, 'Push Hook', { object_kind: 'push' });
    expect(fake.hook(ref)).toMatchObject({ alert_status: 'executable', disabled_until: null });
    const fourth = await fake.send(ref, 'Push Hook', { object_kind: 'push' });
    expect(fourth).toMatchObject({ dropped: false, event: { response_status: '503', trigger: 'push_hooks' } });

    const hook = await gitlabCall(fake, 'GET', '/projects/11/hooks/3');
    expect(hook.body).toMatchObject({ id: 3, project_id: 11, alert_status: 'temporarily_disabled' });
    const until = Date.parse((hook.body as { disabled_until: string }).disabled_until);
    expect(until - Date.now()).toBeGreaterThan(50_000);
    expect(until - Date.now()).toBeLessThanOrEqual(60_000);

    expect(await fake.send(ref, 'Push Hook', { object_kind: 'push' })).toEqual({
      dropped: true,
      alertStatus: 'temporarily_disabled',
    });
    expect(receiver.received).toHaveLength(4);
    expect(fake.events(ref)).toHaveLength(4);
    expect(receiver.received[0]!.headers).toMatchObject({
      'x-gitlab-event': 'Push Hook',
      'x-gitlab-token': 'glt-secret',
      'x-gitlab-instance': 'https://gitlab.example.com',
      'x-gitlab-event-uuid': expect.stringMatching(/^[0-9a-f-]{36}$/),
      'x-gitlab-webhook-uuid': expect.stringMatching(/^[0-9a-f-]{36}$/),
      'idempotency-key': expect.stringMatching(/^[0-9a-f-]{36}$/),
      'content-type': 'application/json',
      'user-agent': 'GitLab/17.5.0',
    });

    fake.setAlertStatus(ref, 'executable');
    receiver.answerWith(200);
    expect((await fake.send(ref, 'Push Hook', { object_kind: 'push' })).dropped).toBe(false);
    expect(fake.hook(ref)).toMatchObject({ alert_status: 'executable', disabled_until: null });
  });

  it('disables for good after 4 client errors, and re-disables at once after a backoff expires', async () => {
    const receiver = await startReceiver(404);
    const fake = await gitlab(receiver.url, { backoffMs: 200 });
    for (let i = 0; i < 4; i += 1) await fake.send(ref, 'Push Hook', { object_kind: 'push' });
    expect(fake.hook(ref)).toMatchObject({ alert_status: 'disabled', disabled_until: null });

    fake.setAlertStatus(ref, 'executable');
    receiver.answerWith(500);
    for (let i = 0; i < 4; i += 1) await fake.send(ref, 'Push Hook', { object_kind: 'push' });
    expect(fake.hook(ref).alert_status).toBe('temporarily_disabled');
    await until(() => fake.hook(ref).alert_status === 'executable', 2000);
    await fake.send(ref, 'Push Hook', { object_kind: 'push' });
    expect(fake.hook(ref).alert_status).toBe('temporarily_disabled');
  });

  it('lists events newest first, filtered by status and paged with x-page headers', async () => {
    const receiver = await startReceiver();
    const fake = await gitlab(receiver.url);
    for (const code of [200, 503, 404, 201]) {
      receiver.answerWith(code);
      await fake.send(ref, 'Merge Request Hook', { object_kind: 'merge_request', code });
    }
    fake.setHookUrl(ref, await deadUrl());
    await fake.send(ref, 'Merge Request Hook', { object_kind: 'merge_request', code: 0 });

    const all = await fetch(`${fake.url}/api/v4/projects/group%2Fname/hooks/3/events?per_page=2`, {
      headers: { authorization: `Bearer ${privateToken}` },
    });
    expect(all.status).toBe(200);
    expect(((await all.json()) as Array<{ response_status: string }>).map((e) => e.response_status)).toEqual([
      'internal error',
      '201',
    ]);
    expect([all.headers.get('x-page'), all.headers.get('x-per-page'), all.headers.get('x-next-page')]).toEqual([
      '1',
      '2',
      '2',
    ]);
    const last = await gitlabCall(fake, 'GET', '/projects/11/hooks/3/events?per_page=2&page=3');
    expect(last.headers.get('x-next-page')).toBe('');
    expect(last.body).toMatchObject([{ response_status: '200', request_data: { code: 200 } }]);

    const statuses = async (status: string) =>
      (
        (await gitlabCall(fake, 'GET', `/projects/11/hooks/3/events?status=${status}`)).body as Array<{
          response_status: string;
        }>
      ).map((e) => e.response_status);
    expect(await statuses('successful')).toEqual(['201', '200']);
    expect(await statuses('client_failure')).toEqual(['404']);
    expect(await statuses('server_failure')).toEqual(['503']);
    expect(await statuses('503')).toEqual(['503']);
    expect((await gitlabCall(fake, 'GET', '/projects/11/hooks/3/events?status=bogus')).status).toBe(400);

    const [newest] = fake.events(ref);
    expect(newest).toMatchObject({
      trigger: 'merge_request_hooks',
      request_headers: { 'X-Gitlab-Event': 'Merge Request Hook', 'X-Gitlab-Token': '[REDACTED]' },
      request_data: { object_kind: 'merge_request', code: 0 },
      response_headers: {},
      response_body: '',
      execution_duration: expect.any(Number),
      created_at: expect.any(String),
    });
    expect((await fetch(`${fake.url}/api/v4/projects/11/hooks/3/events`)).status).toBe(401);
    expect((await gitlabCall(fake, 'GET', '/projects/12/hooks/3/events')).status).toBe(404);
    expect((await gitlabCall(fake, 'GET', '/projects/11/hooks/4/events')).status).toBe(404);
  });

  it('resends the logged event: same Idempotency-Key, new UUIDs, e-mails redacted', async () => {
    const receiver = await startReceiver(503);
    const fake = await gitlab(receiver.url);
    const sent = await fake.send(ref, 'Push Hook', { object_kind: 'push', user_email: 'dev@example.com' });
    if (sent.dropped) throw new Error('dropped');
    receiver.answerWith(200);

    const resent = await gitlabCall(fake, 'POST', `/projects/group%2Fname/hooks/3/events/${sent.event.id}/resend`);
    expect(resent).toMatchObject({ status: 201, body: { response_status: 200 } });
    const [original, again] = receiver.received;
    expect(again!.headers['idempotency-key']).toBe(original!.headers['idempotency-key']);
    expect(again!.headers['x-gitlab-token']).toBe('glt-secret');
    expect(again!.headers['x-gitlab-event']).toBe('Push Hook');
    expect(again!.headers['x-gitlab-event-uuid']).not.toBe(original!.headers['x-gitlab-event-uuid']);
    expect(again!.headers['x-gitlab-webhook-uuid']).not.toBe(original!.headers['x-gitlab-webhook-uuid']);
    expect(JSON.parse(original!.body.toString())).toEqual({ object_kind: 'push', user_email: 'dev@example.com' });
    expect(JSON.parse(again!.body.toString())).toEqual({ object_kind: 'push', user_email: '[REDACTED]' });
    expect(fake.events(ref).map((e) => e.response_status)).toEqual(['200', '503']);

    fake.setHookUrl(ref, await deadUrl());
    expect(await gitlabCall(fake, 'POST', `/projects/11/hooks/3/events/${sent.event.id}/resend`)).toMatchObject({
      status: 422,
      body: { message: 'The hook URL has changed, and this log entry cannot be retried' },
    });
    const unreachable = await fake.send(ref, 'Push Hook', { object_kind: 'push' });
    if (unreachable.dropped) throw new Error('dropped');
    const refused = await gitlabCall(fake, 'POST', `/projects/11/hooks/3/events/${unreachable.event.id}/resend`);
    expect(refused.status).toBe(422);
    expect(fake.events(ref)[0]!.response_status).toBe('internal error');
  });

  it('allows 5 resends a minute, then answers 429', async () => {
    const receiver = await startReceiver(200);
    const fake = await gitlab(receiver.url);
    const sent = await fake.send(ref, 'Push Hook', { object_kind: 'push' });
    if (sent.dropped) throw new Error('dropped');
    const path = `/projects/11/hooks/3/events/${sent.event.id}/resend`;
    for (let i = 0; i < 5; i += 1) expect((await gitlabCall(fake, 'POST', path)).status).toBe(201);
    expect(await gitlabCall(fake, 'POST', path)).toMatchObject({
      status: 429,
      body: { message: { error: 'This endpoint has been requested too many times. Try again later.' } },
    });
    expect(receiver.received).toHaveLength(6);
    expect(fake.resendRequests.map((r) => r.status)).toEqual([201, 201, 201, 201, 201, 429]);
  });
});
