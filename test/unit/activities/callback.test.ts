// One callback attempt (activities/callback.ts sendCallback) against a local receiver: signed as
// Standard Webhooks receivers verify it (standardwebhooks' own Webhook.verify), the same
// webhook-id and body on every attempt with a timestamp of its own; 2xx is delivered, 410 ends it,
// anything else (a redirect too, which is never followed), a timeout or a refused connection is
// worth another attempt; only a little of an answer is read; a URL the allow-list no longer
// allows is not called.
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApplicationFailure } from '@temporalio/common';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sendCallback } from '../../../activities/callback.js';
import { callbackEvent, type CallbackDelivery } from '../../../src/core/callbacks.js';

const secret = `whsec_${Buffer.from('callback-signing-key-0123456789ab').toString('base64')}`;
const webhook = new Webhook(secret);

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

const send = (d: CallbackDelivery, over: { timeoutMs?: number; allowed?: (url: string) => boolean } = {}) =>
  sendCallback(d, { webhook, allowed: over.allowed ?? (() => true), timeoutMs: over.timeoutMs ?? 2_000 });

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

  it('does not call a URL the allow-list no longer allows, and never names its query', async () => {
    seen.length = 0;
    const refused = await failureOf(send(delivery('/hook?token=s3cr3t'), { allowed: () => false }));
    expect(refused).toMatchObject({ type: 'CallbackRejected', retryable: false });
    expect(refused.message).not.toContain('s3cr3t');
    expect(seen).toHaveLength(0);
  });
});
