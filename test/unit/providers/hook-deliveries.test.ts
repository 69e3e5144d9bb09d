// The reconciler's GitHub client against the local GitHub (whose answers are checked against
// GitHub's published OpenAPI description): repository, organization and App hooks, paging by the
// Link header's cursor, rate limits as answers, a refused redelivery as an answer, and a bad token
// as a failure retrying cannot fix; and a hostile or redirected API: no redirect followed, no
// answer read beyond its cap, no page longer than asked for.
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportPKCS8, generateKeyPair } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHookDeliveriesClient, maxGitHubAnswerBytes } from '../../../src/providers/github/hook-deliveries.js';
import { startCollector, type Collector } from '../../helpers/collector.js';
import { startFakeGitHub, type FakeGitHub } from '../../helpers/fake-github.js';

const token = 'hooks-token';
/** Far longer than any answer of the local GitHub takes. */
const timeoutMs = 30_000;
let receiver: Server;
let receiverUrl: string;
let github: FakeGitHub;
let appKey: string;
let collector: Collector;
const repository = { kind: 'repository' as const, owner: 'acme', repo: 'app', hookId: 5 };
const organization = { kind: 'organization' as const, org: 'acme', hookId: 6 };
const app = { kind: 'app' as const, appId: 4321 };

beforeAll(async () => {
  receiver = createServer((request, response) => {
    request.resume();
    request.on('end', () => response.writeHead(202).end());
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  collector = await startCollector();
  const { publicKey, privateKey } = await generateKeyPair('RS256', { extractable: true });
  appKey = await exportPKCS8(privateKey);
  github = await startFakeGitHub({
    token,
    hooks: [
      { ...repository, url: receiverUrl, secret: 's' },
      { ...organization, url: receiverUrl, secret: 's' },
      { ...app, url: receiverUrl, secret: 's', publicKey },
    ],
  });
});

afterAll(async () => {
  await collector?.close();
  await github.close();
  await new Promise((resolve) => receiver.close(resolve));
});

describe('the GitHub hook deliveries client', () => {
  it('pages a repository hook newest first by the cursor, and asks for a redelivery', async () => {
    for (let i = 0; i < 5; i += 1) await github.send(repository, 'push', { ref: `refs/heads/b${i}` });
    const client = createHookDeliveriesClient({ apiUrl: github.url, target: repository, timeoutMs, token });
    const seen: number[] = [];
    let cursor: string | undefined;
    do {
      const page = await client.listPage(cursor, 2);
      if ('rateLimited' in page) throw new Error('rate-limited');
      seen.push(...page.deliveries.map((d) => d.id));
      cursor = page.next;
    } while (cursor !== undefined);
    expect(seen).toEqual(github.deliveries(repository).map((d) => d.id));
    expect(await client.redeliver(seen[0]!)).toEqual({ accepted: true });
    await github.settled();
    expect(github.deliveries(repository)[0]).toMatchObject({ redelivery: true });
    expect(github.schemaViolations).toEqual([]);
  });

  it('lists an organization hook and the App hook (with the App JWT)', async () => {
    await github.send(organization, 'push', { ref: 'refs/heads/main' });
    await github.send(app, 'installation', { action: 'created' });
    const org = await createHookDeliveriesClient({
      apiUrl: github.url,
      target: organization,
      timeoutMs,
      token,
    }).listPage(undefined);
    expect('deliveries' in org && org.deliveries).toHaveLength(1);
    const own = createHookDeliveriesClient({
      apiUrl: github.url,
      target: { kind: 'app' },
      app: { appId: String(app.appId), privateKey: appKey },
      timeoutMs,
    });
    const listed = await own.listPage(undefined);
    expect('deliveries' in listed && listed.deliveries.map((d) => d.event)).toEqual(['installation']);
  });

  it('answers rate limits with when to go on, and a delivery GitHub no longer has as gone', async () => {
    const now = Date.now();
    const client = createHookDeliveriesClient({ apiUrl: github.url, target: repository, timeoutMs, token });
    github.secondaryLimitNext(7);
    const limited = await client.listPage(undefined);
    expect(limited).toMatchObject({ rateLimited: true });
    expect((limited as { until: number }).until).toBeGreaterThanOrEqual(now + 7_000);
    expect(await client.redeliver(999_999_999)).toMatchObject({ accepted: false, gone: true });
  });

  it('follows no redirect: the token never reaches where a redirected API points', async () => {
    const client = createHookDeliveriesClient({ apiUrl: github.url, target: repository, timeoutMs, token });
    github.redirectApi(collector.url);
    try {
      await expect(client.listPage(undefined)).rejects.toMatchObject({
        type: 'ReconcilerRejected',
        nonRetryable: true,
        message: expect.stringContaining('redirect'),
      });
      await expect(client.redeliver(1000)).rejects.toMatchObject({ type: 'ReconcilerRejected' });
    } finally {
      github.redirectApi(undefined);
    }
    expect(collector.seen).toEqual([]);
  });

  it('reads no more of an answer than its cap, and no more deliveries than a page holds', async () => {
    const client = createHookDeliveriesClient({ apiUrl: github.url, target: repository, timeoutMs, token });
    const item = (id: number, guid: string) => ({
      id,
      guid,
      delivered_at: new Date().toISOString(),
      redelivery: false,
      duration: 0.1,
      status: 'OK',
      status_code: 200,
      event: 'push',
      action: null,
      installation_id: null,
      repository_id: 1,
      throttled_at: null,
    });
    const huge = JSON.stringify(Array.from({ length: 20_000 }, (_, i) => item(i + 1, randomUUID())));
    expect(huge.length).toBeGreaterThan(maxGitHubAnswerBytes);
    github.answerNextRaw(huge);
    await expect(client.listPage(undefined)).rejects.toMatchObject({
      type: 'ReconcilerRejected',
      nonRetryable: true,
      message: expect.stringContaining(`more than ${maxGitHubAnswerBytes} bytes`),
    });
    github.answerNextRaw(JSON.stringify([item(9, 'g'.repeat(5_000)), item(8, 'b'), item(7, 'c')]));
    const page = await client.listPage(undefined, 2);
    expect('deliveries' in page && page.deliveries.map((d) => [d.id, d.guid.length])).toEqual([
      [9, 200],
      [8, 1],
    ]);
  });

  it('fails for good on a bad token', async () => {
    const client = createHookDeliveriesClient({ apiUrl: github.url, target: repository, timeoutMs, token: 'wrong' });
    await expect(client.listPage(undefined)).rejects.toMatchObject({ type: 'ReconcilerRejected', nonRetryable: true });
  });
});
