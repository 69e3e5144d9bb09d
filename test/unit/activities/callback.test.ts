// One callback attempt (activities/callback.ts) against local receivers: signed as Standard
// Webhooks receivers verify it (standardwebhooks' own Webhook.verify) with the key of the receiver
// it goes to, and no other receiver's key verifies it; the same webhook-id and body on every
// attempt with a timestamp of its own; 2xx is delivered, 410 ends it, anything else (a redirect
// too, which is never followed), a timeout or a refused connection is worth another attempt; only
// a little of an answer is read; a delivery callbacks.receivers no longer allows is not sent; and
// a host that keeps failing has its circuit opened, fails at once while open, and is tried again
// once (half-open) after the cool-down.
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApplicationFailure } from '@temporalio/common';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callbackSender, sendCallback } from '../../../activities/callback.js';
import { HostBreaker } from '../../../activities/host-breaker.js';
import { compileReceivers } from '../../../src/config/callbacks.js';
import type { CallbackReceiverConfig } from '../../../src/config/schema.js';
import { callbackEvent, type CallbackDelivery } from '../../../src/core/callbacks.js';
import { Secret } from '../../../src/core/secret.js';

const secret = `whsec_${Buffer.from('callback-signing-key-0123456789ab').toString('base64')}`;
const webhook = new Webhook(secret);
/** A breaker that never opens, for the tests that are not about it. */
const calm = () => new HostBreaker({ failures: 1_000, coolDownMs: 1_000 });

interface Seen {
  path: string;
  headers: IncomingMessage['headers'];
  body: string;
}

let server: Server;
let base: string;
const seen: Seen[] = [];
let answer: (res: ServerResponse, request: Seen) => void = (res) => res.writeHead(204).end();

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const request = { path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      seen.push(request);
      answer(res, request);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  server.close();
});

const delivery = (path = '/hook'): CallbackDelivery => ({
  url: `${base}${path}`,
  webhookId: 'policy-check.0123456789abcdef',
  event: callbackEvent({
    jobId: 'policy-check.0123456789abcdef',
    runId: 'run-1',
    route: 'policy-check',
    workflowType: 'policyCheck',
    source: 'api',
    owner: 'jwt:https://idp.test#ada',
    status: 'COMPLETED',
    startedAt: '2026-01-01T00:00:00.000Z',
    closedAt: '2026-01-01T00:00:01.000Z',
    result: { decision: 'allow' },
  }),
});

const send = (d: CallbackDelivery, over: { timeoutMs?: number; breaker?: HostBreaker } = {}) =>
  sendCallback(d, { webhook, breaker: over.breaker ?? calm(), timeoutMs: over.timeoutMs ?? 2_000 });

/** The failure an attempt threw: its type and whether Temporal would try again. */
async function failureOf(attempt: Promise<unknown>): Promise<{ type: string; retryable: boolean; message: string }> {
  const error = await attempt.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ApplicationFailure);
  const failure = error as ApplicationFailure;
  return { type: failure.type ?? '', retryable: !failure.nonRetryable, message: failure.message };
}

describe('sendCallback', () => {
  it('POSTs the event signed with Standard Webhooks, the same id and body each attempt, a timestamp of its own', async () => {
    seen.length = 0;
    answer = (res) => res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    expect(await send(delivery())).toBe(200);
    expect(await send(delivery())).toBe(200);
    expect(seen).toHaveLength(2);
    for (const request of seen) {
      expect(request.headers['content-type']).toBe('application/json');
      expect(request.headers['webhook-id']).toBe('policy-check.0123456789abcdef');
      expect(request.headers['webhook-timestamp']).toMatch(/^[0-9]{10}$/);
      expect(Math.abs(Number(request.headers['webhook-timestamp']) - Date.now() / 1000)).toBeLessThan(5);
      const verified = webhook.verify(request.body, request.headers as Record<string, string>);
      expect(verified).toEqual({ ...delivery().event });
    }
    expect(seen[1]!.body).toBe(seen[0]!.body);
    // Another secret does not verify it.
    const other = new Webhook(`whsec_${Buffer.from('another-key-0123456789abcdefghij').toString('base64')}`);
    expect(() => other.verify(seen[0]!.body, seen[0]!.headers as Record<string, string>)).toThrow();
  });

  it('retries a 5xx and any other non-2xx, saying a little of the answer; 410 Gone is final', async () => {
    answer = (res) => res.writeHead(503).end(`down for maintenance\n${'x'.repeat(100_000)}`);
    const unavailable = await failureOf(send(delivery()));
    expect(unavailable).toMatchObject({ type: 'CallbackUnavailable', retryable: true });
    expect(unavailable.message).toMatch(/^http:\/\/127\.0\.0\.1:[0-9]+\/hook answered 503: down for maintenance x+$/);
    expect(unavailable.message.length).toBeLessThan(1_200);

    answer = (res) => res.writeHead(400).end();
    expect(await failureOf(send(delivery()))).toMatchObject({ type: 'CallbackUnavailable', retryable: true });

    answer = (res) => res.writeHead(410).end('unsubscribed');
    expect(await failureOf(send(delivery()))).toMatchObject({
      type: 'CallbackRejected',
      retryable: false,
      message: expect.stringMatching(/410 Gone: unsubscribed$/),
    });
  });

  it('never follows a redirect', async () => {
    seen.length = 0;
    answer = (res, request) =>
      request.path === '/hook' ? res.writeHead(307, { location: `${base}/elsewhere` }).end() : res.writeHead(200).end();
    expect(await failureOf(send(delivery()))).toMatchObject({
      type: 'CallbackUnavailable',
      message: expect.stringMatching(/answered 307$/),
    });
    expect(seen.map((r) => r.path)).toEqual(['/hook']);
  });

  it('gives an attempt one deadline, headers and body alike, and retries after it', async () => {
    answer = () => undefined; // never answers
    const silent = await failureOf(send(delivery(), { timeoutMs: 300 }));
    expect(silent).toMatchObject({ type: 'CallbackUnavailable', retryable: true });
    expect(silent.message).toMatch(/could not be reached: no answer within 300 ms/);

    // A 502 whose body never ends still answers within the deadline.
    answer = (res) => {
      res.writeHead(502);
      res.write('partial');
    };
    const started = Date.now();
    expect(await failureOf(send(delivery(), { timeoutMs: 300 }))).toMatchObject({ type: 'CallbackUnavailable' });
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('retries when nothing listens', async () => {
    const closed = createServer();
    closed.listen(0, '127.0.0.1');
    await once(closed, 'listening');
    const { port } = closed.address() as AddressInfo;
    closed.close();
    await once(closed, 'close');
    const refused = await failureOf(send({ ...delivery(), url: `http://127.0.0.1:${port}/hook` }));
    expect(refused).toMatchObject({ type: 'CallbackUnavailable', retryable: true });
    expect(refused.message).toMatch(/could not be reached: ECONNREFUSED/);
  });
});

describe('a delivery to one of several receivers', () => {
  const keys = { 'team-a': 'team-a-signing-key-0123456789abcd', 'team-b': 'team-b-signing-key-0123456789abcd' };
  const whsec = (raw: string) => `whsec_${Buffer.from(raw).toString('base64')}`;
  const sender = () => {
    const config: Record<string, CallbackReceiverConfig> = {
      'team-a': { url: `${base}/team-a/**`, secret: { env: 'A' }, groups: ['team-a'], query: [] },
      'team-b': { url: `${base}/team-b/**`, secret: { env: 'B' }, groups: ['team-b'], query: ['token'] },
    };
    const { receivers } = compileReceivers(config);
    return callbackSender({
      keys: new Map(Object.entries(keys).map(([name, raw]) => [name, new Secret(whsec(raw))])),
      check: (addressee, route) => receivers.deliverable(addressee, route),
      retry: { initialIntervalMs: 1, maximumIntervalMs: 1, retryForMs: 1_000, attemptTimeoutMs: 2_000 },
      breaker: calm(),
    });
  };

  it("is signed with its receiver's own key: the other receiver's key does not verify it", async () => {
    seen.length = 0;
    answer = (res) => res.writeHead(204).end();
    const send = sender();
    await send({ ...delivery('/team-b/jobs?token=t'), receiver: 'team-b', caller: { groups: ['team-b'] } });
    await send({ ...delivery('/team-a/jobs'), receiver: 'team-a', caller: { groups: ['team-a'] } });
    const [toB, toA] = seen as [Seen, Seen];
    const verify = (raw: string, request: Seen) =>
      new Webhook(whsec(raw)).verify(request.body, request.headers as Record<string, string>);
    expect(verify(keys['team-b'], toB)).toMatchObject({ type: 'job.completed' });
    expect(verify(keys['team-a'], toA)).toMatchObject({ type: 'job.completed' });
    // Team A's key cannot be used to accept (or forge) what goes to team B, nor the reverse.
    expect(() => verify(keys['team-a'], toB)).toThrow(/No matching signature/);
    expect(() => verify(keys['team-b'], toA)).toThrow(/No matching signature/);
  });

  it('is not sent when its receiver is gone or no longer allows the URL or the caller, and never names its query', async () => {
    seen.length = 0;
    const send = sender();
    for (const refused of [
      { ...delivery('/team-a/x?token=s3cr3t'), receiver: 'team-a', caller: { groups: ['team-a'] } },
      { ...delivery('/team-a/x'), receiver: 'team-a', caller: { groups: ['team-b'] } },
      { ...delivery('/team-a/x'), receiver: 'team-c', caller: { groups: ['team-a'] } },
      // From before receivers: checked as if named by a caller in no group, so no group-bound receiver takes it.
      delivery('/team-a/x'),
    ]) {
      const failure = await failureOf(send(refused));
      expect(failure, refused.url).toMatchObject({ type: 'CallbackRejected', retryable: false });
      expect(failure.message).not.toContain('s3cr3t');
    }
    expect(seen).toHaveLength(0);
  });
});

describe("a host's circuit", () => {
  it('opens after consecutive failures, fails at once while open, tries once half-open, and closes on success', async () => {
    let now = 0;
    const breaker = new HostBreaker({ failures: 3, coolDownMs: 30_000 }, () => now);
    seen.length = 0;
    answer = (res) => res.writeHead(503).end();
    for (let i = 0; i < 3; i++)
      expect(await failureOf(send(delivery(), { breaker }))).toMatchObject({ type: 'CallbackUnavailable' });
    expect(seen).toHaveLength(3);
    expect(breaker.openHosts()).toEqual([new URL(base).host]);

    // Open: no connection is made, and Temporal is told to come back when the cool-down ends.
    now = 10_000;
    const open = await send(delivery(), { breaker }).catch((e: unknown) => e as ApplicationFailure);
    expect(open).toMatchObject({ type: 'CallbackCircuitOpen', nonRetryable: false });
    expect((open as ApplicationFailure).nextRetryDelay).toBe(20_000);
    expect(seen).toHaveLength(3);

    // Half-open: one trial attempt; it fails, and the circuit opens for another cool-down.
    now = 30_000;
    expect(await failureOf(send(delivery(), { breaker }))).toMatchObject({ type: 'CallbackUnavailable' });
    expect(seen).toHaveLength(4);
    now = 59_999;
    expect(await failureOf(send(delivery(), { breaker }))).toMatchObject({ type: 'CallbackCircuitOpen' });
    expect(seen).toHaveLength(4);

    // The next trial succeeds: closed again, and attempts go through.
    now = 60_000;
    answer = (res) => res.writeHead(204).end();
    expect(await send(delivery(), { breaker })).toBe(204);
    expect(breaker.openHosts()).toEqual([]);
    expect(await send(delivery(), { breaker })).toBe(204);
    expect(seen).toHaveLength(6);
  });

  it('lets only one trial through while half-open, and counts a refusal (4xx, 410) as the host being up', async () => {
    let now = 0;
    const breaker = new HostBreaker({ failures: 1, coolDownMs: 1_000 }, () => now);
    const trial = breaker.enter('h:443');
    if (!trial.go) throw new Error('closed circuits let attempts through');
    trial.failed();
    now = 1_000;
    const first = breaker.enter('h:443');
    expect(first.go).toBe(true);
    expect(breaker.enter('h:443')).toMatchObject({ go: false, state: 'half-open' });
    if (first.go) first.succeeded();
    expect(breaker.enter('h:443').go).toBe(true);

    seen.length = 0;
    answer = (res) => res.writeHead(404).end();
    const another = new HostBreaker({ failures: 1, coolDownMs: 1_000 }, () => now);
    await failureOf(send(delivery(), { breaker: another }));
    await failureOf(send(delivery(), { breaker: another }));
    expect(seen).toHaveLength(2);
    expect(another.openHosts()).toEqual([]);
  });

  it('opens for a host that never answers, so its attempts stop holding slots for the whole timeout', async () => {
    const breaker = new HostBreaker({ failures: 2, coolDownMs: 60_000 });
    seen.length = 0;
    answer = () => undefined; // takes the request, never answers
    for (let i = 0; i < 2; i++)
      expect(await failureOf(send(delivery(), { breaker, timeoutMs: 200 }))).toMatchObject({
        type: 'CallbackUnavailable',
        message: expect.stringMatching(/no answer within 200 ms/),
      });
    expect(await failureOf(send(delivery(), { breaker, timeoutMs: 200 }))).toMatchObject({
      type: 'CallbackCircuitOpen',
      retryable: true,
    });
    expect(seen).toHaveLength(2);
  });
});
