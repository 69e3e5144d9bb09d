// A reply taken over from Fastify (reply.hijack) so that a request can wait without Fastify's
// objects. A long-poll holds its connection for up to limits.maxWaitSeconds, and while it waits
// Fastify would hold its request, its reply and the handler's promises with it, and the request
// its headers: 1.2 KB of the 9.0 KB a waiter retained (bench/idle-waits.ts; docs/production.md,
// "The bridge's memory"). What is kept instead is the raw response and the few fields its answer
// needs.
//
// When it answers, it does what Fastify's pipeline does for every other answer of the bridge: the
// route's response schema serializes the body, an error becomes the problem the error handler
// would send (error-handler.ts), the request's ids go on it (the onSend hook in
// request-tracing.ts), the server span ends with its status (as @fastify/otel ends it), and the
// answer is logged and counted once it has gone out (answer-log.ts, metrics-plugin.ts).
import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { SpanStatusCode, type Span } from '@opentelemetry/api';
import type { FastifyBaseLogger, FastifyReply, FastifyRequest } from 'fastify';
import { toProblem } from '../errors.js';
import { logAnswer } from './answer-log.js';
import { problemFor } from './error-handler.js';
import { observeAnswer } from './metrics-plugin.js';
import { requestSpan } from './request-tracing.js';

export interface TakenOverReply<T> {
  /** The client's connection: a wait listens for it closing. */
  readonly connection: ServerResponse;
  /** Answers 200 with `body`, serialized by the route's 200 schema. Only the first answer counts. */
  readonly ok: (body: T) => void;
  /** Answers the problem `error` is, as the error handler would. Only the first answer counts. */
  readonly fail: (error: unknown) => void;
}

type Serialize = (body: unknown) => string;

/**
 * Takes the reply over from Fastify once the request is authorised: from here its answer is
 * written by the returned `ok` or `fail`, once. Fastify's request and reply are garbage as soon
 * as the handler returns (the handler must not keep them either), and the raw request's headers
 * are dropped.
 */
export function takeOver<T>(request: FastifyRequest, reply: FastifyReply): TakenOverReply<T> {
  const res = reply.raw;
  const { id, traceId, method, url, log } = request;
  const route = request.routeOptions.url;
  const { metrics, lifecycle } = request.server;
  const span = requestSpan(request);
  // Fastify's clock (performance.now), from when the request arrived.
  const began = performance.now() - reply.elapsedTime;
  // The route's compiled serializers, shared by all its requests (Fastify falls back to 4xx, 5xx).
  const serializeOk = serializer(reply, '200');
  const serializeClientError = serializer(reply, '4xx');
  const serializeServerError = serializer(reply, '5xx');
  // Headers a hook set on the reply before it was taken over go out with the answer too.
  const early = reply.getHeaders();
  const carried = Object.keys(early).length === 0 ? undefined : (early as OutgoingHttpHeaders);
  reply.hijack();
  const ownHooks = letGo(res, log);
  // The raw request stays reachable from the response. It keeps none of its headers: the caller
  // is known, nothing reads them any more, and the token or cookies among them need not stay in
  // the heap for as long as the request waits.
  request.raw.headers = {};
  request.raw.rawHeaders = [];
  let answered = false;

  /** The problem `error` is, as the error handler answers it. */
  const problemAnswer = (error: unknown): Answer => {
    const problem = problemFor(error, log);
    recordError(span, error);
    const body = toProblem(problem, id);
    const serialize = problem.status >= 500 ? serializeServerError : serializeClientError;
    return {
      status: problem.status,
      body: serializeOr(serialize, body),
      contentType: 'application/problem+json; charset=utf-8',
      headers: problem.headers,
    };
  };

  /**
   * Writes the first answer asked for: an answer that cannot be serialized is a 500, as it is on
   * Fastify's path, and whatever fails while writing ends the connection rather than the process.
   */
  const respond = (outcome: () => Answer) => {
    if (answered) return;
    answered = true;
    let answer: Answer;
    try {
      answer = outcome();
    } catch (error) {
      answer = problemAnswer(error);
    }
    if (res.destroyed || res.writableEnded) {
      // The client went away: nobody to answer, and, as for any answer Fastify could not
      // deliver, no log line or metric.
      span?.end();
      return;
    }
    try {
      res.writeHead(answer.status, {
        ...carried,
        ...answer.headers,
        'content-type': answer.contentType,
        'content-length': Buffer.byteLength(answer.body),
        'x-request-id': id,
        ...(traceId === '' ? {} : { 'x-trace-id': traceId }),
        // A draining bridge closes the connection a long-poll leaves: the client's next request
        // goes to another bridge, and this one need not wait for the client to hang up.
        ...(lifecycle.draining ? { connection: 'close' } : {}),
      });
      res.end(method === 'HEAD' ? undefined : answer.body);
    } catch (error) {
      log.error({ err: error }, 'the answer could not be written');
      res.destroy();
    }
    span?.setAttributes({ 'http.response.status_code': answer.status });
    span?.end();
    if (ownHooks) res.once('finish', () => answeredAfter(log, metrics, { method, url, route }, answer.status, began));
  };

  return {
    connection: res,
    ok: (body) =>
      respond(() => ({ status: 200, body: serializeOk(body), contentType: 'application/json; charset=utf-8' })),
    fail: (error) => respond(() => problemAnswer(error)),
  };
}

interface Answer {
  status: number;
  body: string;
  contentType: string;
  headers?: Record<string, string>;
}

/** A problem that its schema cannot serialize (it always can) still goes out, as plain JSON. */
function serializeOr(serialize: Serialize, body: unknown): string {
  try {
    return serialize(body);
  } catch {
    return JSON.stringify(body);
  }
}

/** The route's serializer for `status` (its response schema), or JSON.stringify as Fastify falls back to. */
function serializer(reply: FastifyReply, status: string): Serialize {
  return (reply.getSerializationFunction(status) as Serialize | undefined) ?? JSON.stringify;
}

/**
 * Fastify listens for the response's end to run its onResponse hooks, and that listener holds the
 * reply and the request. Removed, they are garbage once the handler returns, and the answer is
 * logged and counted here instead. It is found by name (`onResFinished`, fastify/lib/reply.js):
 * with a Fastify that names it otherwise, its listener stays, its hooks log and count the answer
 * as for any other reply (answers false), and taken-over-reply.test.ts fails on the lost memory.
 */
function letGo(res: ServerResponse, log: FastifyBaseLogger): boolean {
  const fastifys = res.listeners('finish').filter((listener) => listener.name === 'onResFinished');
  for (const listener of fastifys) {
    res.removeListener('finish', listener as () => void);
    res.removeListener('error', listener as () => void);
  }
  // Fastify's listener was also the response's 'error' listener: without one, an error on the
  // response would be thrown.
  if (fastifys.length > 0) res.on('error', (error) => log.warn({ err: error }, 'the answer could not be sent'));
  return fastifys.length > 0;
}

function answeredAfter(
  log: FastifyBaseLogger,
  metrics: FastifyRequest['server']['metrics'],
  request: { method: string; url: string; route: string | undefined },
  status: number,
  began: number,
): void {
  const elapsedMs = performance.now() - began;
  logAnswer(log, request, status, elapsedMs);
  observeAnswer(metrics, request.method, request.route, status, elapsedMs);
}

/** As @fastify/otel records any error a handler throws (its onError hook): the span's status, and the exception. */
function recordError(span: Span | undefined, error: unknown): void {
  if (span === undefined) return;
  span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
  if (error instanceof Error) span.recordException(error);
}
