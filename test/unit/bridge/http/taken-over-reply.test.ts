// A reply taken over from Fastify answers exactly as Fastify's pipeline would have (status,
// headers, the route's serializer, problem+json, one log line and one metric), and while it waits
// Fastify's request is garbage: what a long-poll holds is the raw response and its own few fields.
import type { IncomingMessage } from 'node:http';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Writable } from 'node:stream';
import Type from 'typebox';
import Fastify, { LogController, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { logAnswer } from '../../../../src/bridge/http/answer-log.js';
import { registerErrorHandler } from '../../../../src/bridge/http/error-handler.js';
import metricsPlugin from '../../../../src/bridge/http/metrics-plugin.js';
import { registerRequestTracing, requestLogger } from '../../../../src/bridge/http/request-tracing.js';
import { takeOver, type TakenOverReply } from '../../../../src/bridge/http/taken-over-reply.js';
import { GatehouseError, ProblemBody } from '../../../../src/bridge/errors.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** The body the routes answer: `internal` is not in the schema, so the route's serializer drops it. */
const Body = Type.Object({ id: Type.String(), status: Type.String() });
const body = { status: 'RUNNING', id: 'job-1', internal: 'not for the client' };
/** A body its schema cannot serialize (no status): a 500 on either path. */
const malformed = { id: 'job-1' };
const failures: Record<string, () => unknown> = {
  missing: () => new GatehouseError('GATEHOUSE_JOB_NOT_FOUND', 'There is no job with this id that you may see'),
  unavailable: () =>
    new GatehouseError('GATEHOUSE_TEMPORAL_UNAVAILABLE', 'Temporal is down', { headers: { 'retry-after': '2' } }),
  unexpected: () => new Error('a bug'),
};

interface Harness {
  app: FastifyInstance;
  lines: Array<Record<string, unknown>>;
  /** The taken-over replies not answered yet, by outcome asked for. */
  held: Array<{ outcome: string; reply: TakenOverReply<typeof body>; raw: IncomingMessage }>;
  /** The Fastify requests of taken-over replies, weakly. */
  requests: Array<WeakRef<FastifyRequest>>;
}

async function harness(): Promise<Harness> {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  const app = Fastify({
    loggerInstance: pino(sink),
    childLoggerFactory: requestLogger,
    logController: new LogController({ disableRequestLogging: true }),
    forceCloseConnections: true,
  });
  // A header set before the route runs goes out with either answer.
  app.addHook('onRequest', async (_request, reply) => {
    reply.header('cache-control', 'no-store');
  });
  app.decorate('lifecycle', { draining: false });
  await registerRequestTracing(app as unknown as FastifyInstance);
  registerErrorHandler(app as unknown as FastifyInstance);
  app.addHook('onResponse', (request, reply, done) => {
    logAnswer(request.log, request, reply.statusCode, reply.elapsedTime);
    done();
  });
  await app.register(metricsPlugin);
  const held: Harness['held'] = [];
  const requests: Harness['requests'] = [];
  const schema = { response: { 200: Body, '4xx': ProblemBody, '5xx': ProblemBody } };
  // The same answers, by Fastify and taken over.
  app.get('/fastify/:outcome', { schema }, async (request: FastifyRequest) => {
    const { outcome } = request.params as { outcome: string };
    if (outcome === 'ok') return body;
    if (outcome === 'malformed') return malformed;
    throw failures[outcome]!();
  });
  app.get('/taken/:outcome', { schema }, async (request: FastifyRequest, reply: FastifyReply) => {
    requests.push(new WeakRef(request));
    const raw = request.raw;
    held.push({ outcome: (request.params as { outcome: string }).outcome, reply: takeOver(request, reply), raw });
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  return { app: app as unknown as FastifyInstance, lines, held, requests };
}

function answer({ outcome, reply }: Harness['held'][number]): void {
  if (outcome === 'ok') reply.ok(body);
  else if (outcome === 'malformed') reply.ok(malformed as typeof body);
  else reply.fail(failures[outcome]!());
}

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !check(); i += 1) await new Promise((resolve) => setTimeout(resolve, 10));
  expect(check()).toBe(true);
}

/** What a client sees of an answer, but for the request's own id. */
async function seen(response: Response): Promise<Record<string, unknown>> {
  const headers = Object.fromEntries(
    [...response.headers].filter(([name]) => !['date', 'x-request-id', 'keep-alive', 'connection'].includes(name)),
  );
  const text = await response.text();
  const parsed = text === '' ? '' : (JSON.parse(text) as Record<string, unknown>);
  if (typeof parsed === 'object') delete parsed.requestId;
  return {
    status: response.status,
    headers,
    body: text === '' ? '' : parsed,
    order: text === '' ? [] : Object.keys(JSON.parse(text)),
  };
}

let open: Harness | undefined;
afterEach(async () => {
  await open?.app.close();
  open = undefined;
});

describe('takeOver', () => {
  it.each([
    ['GET', 'ok'],
    ['GET', 'missing'],
    ['GET', 'unavailable'],
    ['GET', 'unexpected'],
    ['GET', 'malformed'],
    ['HEAD', 'ok'],
    ['HEAD', 'missing'],
  ])(
    'answers %s %s exactly as Fastify would: status, headers, serialized body, one log line and one metric',
    async (method, outcome) => {
      const h = (open = await harness());
      const base = `http://127.0.0.1:${(h.app.server.address() as { port: number }).port}`;
      const direct = await fetch(`${base}/fastify/${outcome}`, { method });
      const pending = fetch(`${base}/taken/${outcome}`, { method });
      await until(() => h.held.length === 1);
      answer(h.held[0]!);
      const taken = await pending;
      expect(taken.headers.get('x-request-id')).toMatch(/^req-\d+$/);
      const [fromFastify, fromTakenOver] = [await seen(direct), await seen(taken)];
      expect(fromTakenOver).toEqual(fromFastify);
      if (method === 'HEAD') expect(fromTakenOver.body).toBe('');
      else if (outcome === 'ok') expect(fromTakenOver.body).toEqual({ id: 'job-1', status: 'RUNNING' });
      expect(fromTakenOver.headers).toMatchObject({ 'cache-control': 'no-store' });

      await until(() => h.lines.filter((line) => line.msg === 'answered').length === 2);
      const answered = h.lines.filter((line) => line.msg === 'answered');
      expect(answered.map((line) => [line.url, line.status])).toEqual([
        [`/fastify/${outcome}`, fromFastify.status],
        [`/taken/${outcome}`, fromFastify.status],
      ]);
      expect(answered[1]!.reqId).toBe(taken.headers.get('x-request-id'));
      expect(typeof answered[1]!.ms).toBe('number');
      const counts = (await h.app.metrics.httpDuration.get()).values.filter((v) =>
        String(v.metricName).endsWith('_count'),
      );
      const count = (route: string) => counts.find((v) => v.labels.route === route)?.value;
      expect(count('/fastify/:outcome')).toBe(1);
      expect(count('/taken/:outcome')).toBe(1);
    },
  );

  it("lets go of Fastify's request and of the request's headers while it waits, and still answers", async () => {
    const h = (open = await harness());
    const base = `http://127.0.0.1:${(h.app.server.address() as { port: number }).port}`;
    const token = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJwZXJzb24ifQ.c2lnbmF0dXJl';
    const pending = Array.from({ length: 3 }, () =>
      fetch(`${base}/taken/ok`, { headers: { authorization: `Bearer ${token}`, cookie: '__Host-gh_session=secret' } }),
    );
    await until(() => h.held.length === 3);
    // Fastify's request would be held by its own response listener, by the reply and by the
    // handler's promise: none of them may survive the handler.
    await new Promise((resolve) => setImmediate(resolve));
    gc();
    expect(h.requests.map((request) => request.deref())).toEqual([undefined, undefined, undefined]);
    // The raw request, which the response refers to, holds no header: no token and no cookie.
    for (const { raw } of h.held) {
      expect(raw.headers).toEqual({});
      expect(raw.rawHeaders).toEqual([]);
    }
    for (const held of h.held) answer(held);
    const answers = await Promise.all(pending);
    expect(answers.map((response) => response.status)).toEqual([200, 200, 200]);
    expect(await answers[0]!.json()).toEqual({ id: 'job-1', status: 'RUNNING' });
  });

  it('answers once, and writes nothing to a client that has gone', async () => {
    const h = (open = await harness());
    const base = `http://127.0.0.1:${(h.app.server.address() as { port: number }).port}`;
    const gone = new AbortController();
    const pending = fetch(`${base}/taken/ok`, { signal: gone.signal }).catch((error: Error) => error.name);
    await until(() => h.held.length === 1);
    gone.abort();
    expect(await pending).toBe('AbortError');
    const { connection } = h.held[0]!.reply;
    await until(() => connection.destroyed);
    answer(h.held[0]!);
    h.held[0]!.reply.fail(new Error('late'));
    expect(connection.headersSent).toBe(false);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(h.lines.filter((line) => line.msg === 'answered' || line.msg === 'unexpected error')).toEqual([]);
  });
});
