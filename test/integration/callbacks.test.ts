// Completion callbacks end to end: the bridge, a real worker and the shared Temporal dev server,
// and local receivers (node:http on 127.0.0.1, one path each) that verify every request with
// standardwebhooks' Webhook.verify and their own key, and dedupe by webhook-id, as Standard
// Webhooks receivers do. The receiver is down, then answers 503, then takes a request but answers
// too late, then answers 200: the job's final state arrives exactly once as far as its dedup is
// concerned (the same webhook-id and body on every attempt), equal to what GET /v1/jobs/{jobId}
// answers. Each receiver's callbacks are signed with its own key: team A's key does not verify
// team B's. A refused callback URL starts nothing: not usable (`;` in the path too), no receiver
// for it, a query the receiver does not take, or a receiver bound to other groups or routes. A
// route's default callback follows webhook jobs; a key reused with another callback is a 422.
import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WorkflowNotFoundError } from '@temporalio/client';
import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { deriveJobId } from '../../src/bridge/jobs/derive-job-id.js';
import { callbackWorkflowId, type CallbackEvent } from '../../src/core/callbacks.js';
import { testSecrets, useGatehouse } from '../helpers/gatehouse.js';
import { deployApi } from '../helpers/queries.js';
import { deliver, githubDelivery, githubExample } from '../helpers/webhooks.js';
import { randomBytes } from 'node:crypto';

type Mode = 'unavailable' | 'late' | 'ok';

interface Attempt {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  verified: boolean;
}

/** Each receiver's key, by the first segment of its path (callbacks.receivers below). */
const keys: Record<string, string> = {
  hooks: testSecrets.TEST_CALLBACK_SECRET,
  'team-a': testSecrets.TEST_CALLBACK_KEY_A,
  'team-b': testSecrets.TEST_CALLBACK_KEY_B,
};

/**
 * Standard Webhooks receivers, one per path prefix: each verifies the signature with its own key,
 * dedupes by webhook-id (a message it has processed is answered 200 and not processed again) and
 * can be down or misbehave on purpose.
 */
class Receiver {
  readonly attempts: Attempt[] = [];
  /** Processed messages by webhook-id: what the receiver's application saw. */
  readonly processed = new Map<string, CallbackEvent[]>();
  /** What the next requests meet; when empty, `ok`. */
  readonly script: Mode[] = [];
  private readonly server: Server;
  port = 0;

  constructor() {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        let event: CallbackEvent | undefined;
        try {
          const key = keys[(req.url ?? '').split('/')[1] ?? ''] ?? '';
          event = new Webhook(key).verify(body, req.headers as Record<string, string>) as CallbackEvent;
        } catch {
          event = undefined;
        }
        this.attempts.push({ path: req.url ?? '', headers: req.headers, body, verified: event !== undefined });
        if (event === undefined) return res.writeHead(401).end();
        const mode = this.script.shift() ?? 'ok';
        if (mode === 'unavailable') return res.writeHead(503).end('maintenance');
        const id = req.headers['webhook-id'] as string;
        if (!this.processed.has(id)) this.processed.set(id, []);
        const seen = this.processed.get(id)!;
        if (seen.length === 0) seen.push(event);
        // `late`: processed, but the answer comes after Gatehouse stopped waiting for it.
        if (mode === 'late') setTimeout(() => res.writeHead(200).end(), 1_500).unref();
        else res.writeHead(200).end();
      });
    });
  }

  get base(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async up(): Promise<void> {
    this.server.listen(this.port, '127.0.0.1');
    await once(this.server, 'listening');
    this.port = (this.server.address() as AddressInfo).port;
  }

  /** Nothing listens: connections are refused. */
  async down(): Promise<void> {
    this.server.closeAllConnections();
    this.server.close();
    await once(this.server, 'close');
  }

  /** Down for good, whether it is up or not. */
  async close(): Promise<void> {
    await this.down().catch(() => undefined);
  }

  attemptsFor(webhookId: string): Attempt[] {
    return this.attempts.filter((a) => a.headers['webhook-id'] === webhookId);
  }
}

const receiver = new Receiver();

const g = useGatehouse({
  name: 'gatehouse-callbacks',
  fakes: {
    receiver: async () => {
      await receiver.up();
      return receiver;
    },
  },
  // As a config file would say it; the receiver's port is only known now.
  overlay: ({ fakes }) => ({
    callbacks: {
      receivers: {
        hooks: {
          url: `${fakes.receiver.base}/hooks/**`,
          secret: { env: 'TEST_CALLBACK_SECRET' },
          routes: ['policy-check', 'git-event'],
          query: ['token'],
        },
        'team-a': {
          url: `${fakes.receiver.base}/team-a/**`,
          secret: { env: 'TEST_CALLBACK_KEY_A' },
          groups: ['team-a'],
        },
        'team-b': {
          url: `${fakes.receiver.base}/team-b/**`,
          secret: { env: 'TEST_CALLBACK_KEY_B' },
          groups: ['team-b'],
        },
      },
      retryFor: '2m',
      initialInterval: '200ms',
      maxInterval: '1s',
      timeout: '1s',
      // The receivers share one host: its circuit opens while it is down, and is tried again soon.
      breaker: { failures: 5, coolDown: '1s' },
    },
    routes: { 'git-event': { callback: `${fakes.receiver.base}/hooks/git-events` } },
  }),
});

/** A maintainer: Cedar allows the deploy query (config/policies/). */
const maintainer = (...groups: string[]) => g.caller({ groups: ['maintainers', ...groups] });

const callbackOf = (jobId: string) => g.app.temporal.client.workflow.getHandle(callbackWorkflowId(jobId));

/** The callback workflow's result, once the job's first workflow task has started it. */
async function delivered(jobId: string): Promise<unknown> {
  const exists = () =>
    callbackOf(jobId)
      .describe()
      .then(
        () => true,
        () => false,
      );
  await expect.poll(exists, { timeout: 10_000 }).toBe(true);
  return callbackOf(jobId).result();
}

describe('completion callbacks', () => {
  it("survive the receiver's outage: one message, verified, with the job's final state, on every attempt the same", async () => {
    const me = await maintainer();
    await receiver.down();
    const started = await me.send('policy-check', deployApi, {
      headers: { 'gatehouse-callback-url': `${receiver.base}/hooks/jobs?token=abc` },
    });
    expect(started.statusCode).toBe(202);
    const { jobId } = started.json();
    const job = await me.read(jobId, { wait: 5 });
    expect(job.status).toBe('COMPLETED');

    // Temporal keeps trying while nothing listens.
    await expect
      .poll(async () => (await callbackOf(jobId).describe()).raw.pendingActivities?.[0]?.attempt ?? 0, {
        timeout: 15_000,
      })
      .toBeGreaterThanOrEqual(3);
    expect(receiver.attemptsFor(jobId)).toHaveLength(0);

    // Up again: two 503s, then an attempt it processes but answers too late, then 200s.
    receiver.script.push('unavailable', 'unavailable', 'late');
    await receiver.up();
    expect(await delivered(jobId)).toMatchObject({ status: 200, webhookId: jobId, type: 'job.completed' });

    const attempts = receiver.attemptsFor(jobId);
    expect(attempts.length).toBeGreaterThanOrEqual(4);
    expect(attempts.every((a) => a.verified && a.path === '/hooks/jobs?token=abc')).toBe(true);
    expect(new Set(attempts.map((a) => a.body)).size).toBe(1);
    // Exactly once for the receiver's application, though it got the message twice.
    expect(receiver.processed.get(jobId)).toHaveLength(1);
    const [event] = receiver.processed.get(jobId)!;
    expect(event).toEqual({ type: 'job.completed', timestamp: job.closedAt, data: job });
    expect(event!.data.result).toMatchObject({ decision: 'allow' });
  });

  it("signs each receiver's callbacks with its own key: team A's key does not verify team B's", async () => {
    const teamB = await maintainer('team-b');
    const started = await teamB.send('policy-check', deployApi, {
      headers: { 'gatehouse-callback-url': `${receiver.base}/team-b/jobs` },
    });
    expect(started.statusCode).toBe(202);
    const { jobId } = started.json();
    expect(await delivered(jobId)).toMatchObject({ status: 200, webhookId: jobId });
    const [attempt] = receiver.attemptsFor(jobId);
    expect(attempt).toMatchObject({ path: '/team-b/jobs', verified: true });
    const headers = attempt!.headers as Record<string, string>;
    expect(new Webhook(testSecrets.TEST_CALLBACK_KEY_B).verify(attempt!.body, headers)).toMatchObject({
      type: 'job.completed',
      data: { jobId, route: 'policy-check', owner: teamB.principal },
    });
    // Team A (or the old shared secret) holds no key that accepts it, so neither can forge one.
    for (const other of [testSecrets.TEST_CALLBACK_KEY_A, testSecrets.TEST_CALLBACK_SECRET])
      expect(() => new Webhook(other).verify(attempt!.body, headers)).toThrow(/No matching signature/);
  });

  it('refuses a callback URL that is not usable, not allowed, or not for this caller, and starts nothing', async () => {
    const teamA = await maintainer('team-a');
    const cases = [
      ['http://hooks.example.com/hooks/x', 400, 'GATEHOUSE_CALLBACK_URL_INVALID'],
      ['ftp://127.0.0.1/hooks/x', 400, 'GATEHOUSE_CALLBACK_URL_INVALID'],
      [`http://user:pw@127.0.0.1:${receiver.port}/hooks/x`, 400, 'GATEHOUSE_CALLBACK_URL_INVALID'],
      [`${receiver.base}/hooks/x#fragment`, 400, 'GATEHOUSE_CALLBACK_URL_INVALID'],
      ['not a url', 400, 'GATEHOUSE_CALLBACK_URL_INVALID'],
      // Read as /team-a/../admin/purge by servers that strip path parameters.
      [`${receiver.base}/team-a/..;/admin/purge`, 400, 'GATEHOUSE_CALLBACK_URL_INVALID'],
      [`${receiver.base}/admin`, 422, 'GATEHOUSE_CALLBACK_NOT_ALLOWED'],
      [`http://127.0.0.1:${receiver.port + 1}/hooks/x`, 422, 'GATEHOUSE_CALLBACK_NOT_ALLOWED'],
      ['https://evil.example/hooks/x', 422, 'GATEHOUSE_CALLBACK_NOT_ALLOWED'],
      // Team A's receiver takes no query; hooks takes only token.
      [`${receiver.base}/team-a/x?env=prod&approved=true`, 422, 'GATEHOUSE_CALLBACK_NOT_ALLOWED'],
      [`${receiver.base}/hooks/x?token=t&approved=true`, 422, 'GATEHOUSE_CALLBACK_NOT_ALLOWED'],
      // Team B's receiver, named by a caller of team A.
      [`${receiver.base}/team-b/x`, 403, 'GATEHOUSE_CALLBACK_FORBIDDEN'],
    ] as const;
    for (const [index, [url, status, code]] of cases.entries()) {
      const key = `refused-${index}`;
      const answer = await teamA.send('policy-check', deployApi, { key, headers: { 'gatehouse-callback-url': url } });
      expect(answer.statusCode, url).toBe(status);
      expect(answer.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(answer.json()).toMatchObject({ code, status });
      const jobId = deriveJobId('policy-check', teamA.principal, { kind: 'idempotency-key', value: key });
      await expect(g.app.temporal.client.workflow.getHandle(jobId).describe()).rejects.toBeInstanceOf(
        WorkflowNotFoundError,
      );
      await expect(callbackOf(jobId).describe()).rejects.toBeInstanceOf(WorkflowNotFoundError);
    }
    const listed = await teamA.list();
    expect(listed.json()).toEqual({ jobs: [], nextPageToken: null });

    // The hooks receiver is bound to routes: a job of another route may not name it.
    const deployer = await maintainer('deployers');
    const other = await deployer.send('deploy-check', deployApi, {
      key: 'other-route',
      headers: { 'gatehouse-callback-url': `${receiver.base}/hooks/x` },
    });
    expect(other.statusCode).toBe(403);
    expect(other.json()).toMatchObject({
      code: 'GATEHOUSE_CALLBACK_FORBIDDEN',
      detail: expect.stringMatching(/not for jobs of deploy-check started by this caller/),
    });
    const otherId = deriveJobId('deploy-check', deployer.principal, { kind: 'idempotency-key', value: 'other-route' });
    await expect(g.app.temporal.client.workflow.getHandle(otherId).describe()).rejects.toBeInstanceOf(
      WorkflowNotFoundError,
    );
  });

  it("gives webhook jobs their route's default callback, and a redelivery neither a 422 nor a second message", async () => {
    const push = {
      ...githubExample('push', (e) => e.ref === 'refs/heads/master'),
      ref: 'refs/heads/main',
      after: randomBytes(20).toString('hex'),
    };
    const delivery = githubDelivery(push, { secret: testSecrets.TEST_GITHUB_SECRET, event: 'push' });
    const answer = await deliver(g.app, delivery);
    expect(answer.statusCode).toBe(202);
    const { jobId } = answer.json();
    expect(await delivered(jobId)).toMatchObject({ status: 200, type: 'job.completed' });
    expect((await deliver(g.app, delivery)).json()).toMatchObject({ jobId, duplicate: true });

    const admin = await g.caller({ groups: ['gatehouse-admins'] });
    const job = await admin.read(jobId, { wait: 5 });
    expect(receiver.processed.get(jobId)).toEqual([{ type: 'job.completed', timestamp: job.closedAt, data: job }]);
    expect(job).toMatchObject({ source: 'github', owner: 'webhook:github:21031067', route: 'git-event' });
    expect(receiver.attemptsFor(jobId).map((a) => a.path)).toEqual(['/hooks/git-events']);
  });

  it('treats the callback as part of the request: a key reused with another one, or without it, is a 422', async () => {
    const me = await maintainer();
    const url = `${receiver.base}/hooks/replayed`;
    const first = await me.send('policy-check', deployApi, { key: 'k1', headers: { 'gatehouse-callback-url': url } });
    expect(first.statusCode).toBe(202);
    // The same URL, spelled as the parser normalizes it, is the same request.
    const again = await me.send('policy-check', deployApi, {
      key: 'k1',
      headers: { 'gatehouse-callback-url': url.replace('127.0.0.1', '127.1') },
    });
    expect(again.statusCode).toBe(202);
    expect(again.headers['idempotent-replayed']).toBe('true');
    for (const headers of [{ 'gatehouse-callback-url': `${url}/other` }, {}] as Array<Record<string, string>>) {
      const other = await me.send('policy-check', deployApi, { key: 'k1', headers });
      expect(other.statusCode).toBe(422);
      expect(other.json()).toMatchObject({
        code: 'GATEHOUSE_IDEMPOTENCY_KEY_REUSED',
        detail: 'This key was already used for a request with another Gatehouse-Callback-URL',
      });
    }
    expect(await delivered(first.json().jobId)).toMatchObject({ status: 200 });
  });

  it('is described by the OpenAPI document, and the bridge never holds a signing key', async () => {
    const me = await maintainer();
    const doc = (await me.request({ url: '/openapi.json' })).json();
    const operation = doc.paths['/v1/jobs/policy-check'].post;
    expect(operation.parameters).toContainEqual(
      expect.objectContaining({ in: 'header', name: 'gatehouse-callback-url', required: false }),
    );
    const callback = operation.callbacks.jobClosed['{$request.header.Gatehouse-Callback-URL}'].post;
    expect(callback.requestBody.content['application/json'].schema.properties).toHaveProperty('data');
    for (const key of Object.values(keys)) expect(JSON.stringify(g.config)).not.toContain(key);
  });
});
