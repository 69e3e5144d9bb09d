// A test's caller: a fresh principal of the fixture's dev issuer, with its token, and the job
// requests a test makes as it, through the bridge's inject (`events` through the bridge's socket).
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { expect } from 'vitest';
import { jwtPrincipal } from '../../src/core/principal.js';
import type { DevIssuer } from '../../src/dev/dev-issuer.js';
import { openStream, type SseStream } from './sse.js';
import { uniqueName } from './test-config.js';

export interface StartOptions {
  /** The Idempotency-Key header. */
  key?: string;
  headers?: Record<string, string>;
}

/** One principal and what it does through the bridge (app.inject; `events` over the bridge's socket). */
export interface Caller {
  token: string;
  subject: string;
  principal: string;
  /** The authorization header, to add to a request of the test's own. */
  headers: { authorization: string };
  /** Any request as this caller. */
  request(options: InjectOptions): Promise<LightMyRequestResponse>;
  /** POST /v1/jobs/{route}, whatever it answers. */
  send(route: string, input: unknown, options?: StartOptions): Promise<LightMyRequestResponse>;
  /** POST /v1/jobs/{route}, which must start the job (202). */
  start(route: string, input: unknown, options?: StartOptions): Promise<{ jobId: string; runId: string }>;
  /** GET /v1/jobs/{jobId}, long-polling `wait` seconds when given. */
  read(jobId: string, options?: { wait?: number }): Promise<Record<string, unknown>>;
  /** GET /v1/jobs with this query. */
  list(query?: Record<string, string | number>): Promise<LightMyRequestResponse>;
  /** POST /v1/jobs/{jobId}/cancel. */
  cancel(jobId: string): Promise<LightMyRequestResponse>;
  /** GET /v1/jobs/{jobId}/events on the listening bridge (`base` for another one). */
  events(jobId: string, options?: { lastEventId?: string; base?: string }): Promise<SseStream>;
}

/**
 * `app` gives the bridge when a request is made (a fixture without one throws then); `url` is the
 * listening bridge's address, or ''; streams opened are added to `streams`, for the fixture to close.
 */
export async function createCaller(
  issuer: DevIssuer,
  bridge: { app: () => FastifyInstance; url: string; streams: SseStream[] },
  claims: Record<string, unknown> = {},
): Promise<Caller> {
  const { url, streams } = bridge;
  const subject = typeof claims.sub === 'string' ? claims.sub : uniqueName('user');
  const token = await issuer.mint({ sub: subject, ...claims });
  const headers = { authorization: `Bearer ${token}` };
  const request = (options: InjectOptions) =>
    bridge.app().inject({ ...options, headers: { ...headers, ...options.headers } });
  const send = (route: string, input: unknown, { key, headers = {} }: StartOptions = {}) =>
    request({
      method: 'POST',
      url: `/v1/jobs/${route}`,
      payload: input as InjectOptions['payload'],
      headers: { ...(key === undefined ? {} : { 'idempotency-key': key }), ...headers },
    });
  return {
    token,
    subject,
    principal: jwtPrincipal(issuer.issuer, subject),
    headers,
    request,
    send,
    async start(route, input, startOptions) {
      const answer = await send(route, input, startOptions);
      expect(answer.statusCode, answer.body).toBe(202);
      return answer.json<{ jobId: string; runId: string }>();
    },
    async read(jobId, { wait } = {}) {
      const query = wait === undefined ? '' : `?wait=${wait}`;
      return (await request({ url: `/v1/jobs/${jobId}${query}` })).json<Record<string, unknown>>();
    },
    list: (query = {}) =>
      request({
        url: '/v1/jobs',
        query: Object.fromEntries(Object.entries(query).map(([k, v]) => [k, String(v)])),
      }),
    cancel: (jobId) => request({ method: 'POST', url: `/v1/jobs/${jobId}/cancel` }),
    async events(jobId, { lastEventId, base = url } = {}) {
      if (base === '') throw new Error("events need a listening bridge (bridge: 'listen') or a base");
      const stream = await openStream({
        url: `${base}/v1/jobs/${jobId}/events`,
        token,
        ...(lastEventId === undefined ? {} : { lastEventId }),
      });
      streams.push(stream);
      return stream;
    },
  };
}
