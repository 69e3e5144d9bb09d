// Bad input gets a clear error and loses nothing: the right status, a problem+json body with a
// stable code, and no half-started work. "Nothing started" is proved by sending the same
// Idempotency-Key with a good body afterwards: it must start a new job, not replay one.
import { beforeAll, describe, expect, it } from 'vitest';
import { useGatehouse, uniqueName } from '../helpers/gatehouse.js';
import { readWebsite } from '../helpers/queries.js';

const query = readWebsite;

const h = useGatehouse({ worker: false });
let token: string;
beforeAll(async () => {
  token = (await h.caller({ groups: ['deployers'] })).token;
});

async function send(options: {
  url?: string;
  payload?: string | object;
  contentType?: string;
  key?: string;
  headers?: Record<string, string>;
}) {
  return h.app.inject({
    method: 'POST',
    url: options.url ?? '/v1/jobs/policy-check',
    ...(options.payload === undefined ? {} : { payload: options.payload }),
    headers: {
      authorization: `Bearer ${token}`,
      ...(options.contentType === undefined ? {} : { 'content-type': options.contentType }),
      ...(options.key === undefined ? {} : { 'idempotency-key': options.key }),
      ...options.headers,
    },
  });
}

/** The key was not used: a good request with it starts a fresh job. */
async function expectNothingStartedUnder(key: string, url = '/v1/jobs/policy-check') {
  const good = await send({ url, payload: query, key });
  expect(good.statusCode).toBe(202);
  expect(good.headers['idempotent-replayed']).toBeUndefined();
}

function expectProblem(answer: Awaited<ReturnType<typeof send>>, status: number, code: string) {
  expect(answer.statusCode).toBe(status);
  expect(answer.headers['content-type']).toMatch(/^application\/problem\+json/);
  const body = answer.json();
  expect(body).toMatchObject({
    status,
    code,
    type: expect.stringMatching(/^urn:gatehouse:problem:/),
    title: expect.any(String),
    detail: expect.any(String),
  });
  return body;
}

describe('bad input', () => {
  it('answers 413 for a body over the route limit', async () => {
    const key = uniqueName('k');
    const big = { ...query, context: { padding: 'x'.repeat(8_000) } };
    expectProblem(await send({ payload: big, key }), 413, 'GATEHOUSE_BODY_TOO_LARGE');
    await expectNothingStartedUnder(key);
  });

  it('answers 400 for a body that is not JSON', async () => {
    const key = uniqueName('k');
    expectProblem(
      await send({ payload: '{"action": ', contentType: 'application/json', key }),
      400,
      'GATEHOUSE_MALFORMED_BODY',
    );
    expectProblem(await send({ payload: '', contentType: 'application/json', key }), 400, 'GATEHOUSE_MALFORMED_BODY');
    await expectNothingStartedUnder(key);
  });

  it('answers 415 for a body that is not application/json', async () => {
    const key = uniqueName('k');
    expectProblem(
      await send({ payload: 'action=read', contentType: 'application/x-www-form-urlencoded', key }),
      415,
      'GATEHOUSE_UNSUPPORTED_MEDIA_TYPE',
    );
    expectProblem(
      await send({ payload: JSON.stringify(query), contentType: 'text/plain', key }),
      415,
      'GATEHOUSE_UNSUPPORTED_MEDIA_TYPE',
    );
    await expectNothingStartedUnder(key);
  });

  it('answers 400 with JSON pointers for input that breaks the route schema', async () => {
    const key = uniqueName('k');
    const body = expectProblem(
      await send({
        payload: { action: { type: 'Gatehouse::Action' }, resource: { type: 'not a type!', id: 'x' }, extra: 1 },
        key,
      }),
      400,
      'GATEHOUSE_VALIDATION_FAILED',
    );
    const pointers = body.errors.map((e: { pointer: string }) => e.pointer).sort();
    expect(pointers).toEqual(['/action/id', '/extra', '/resource/type']);
    expect(body.errors.every((e: { in: string }) => e.in === 'body')).toBe(true);
    await expectNothingStartedUnder(key);
  });

  it('does not coerce or strip input: the string "1" stays a string and fails a number schema', async () => {
    const answer = await send({ payload: { action: { type: 'Gatehouse::Action', id: 1 }, resource: query.resource } });
    expect(answer.statusCode).toBe(400);
  });

  it('refuses prototype-poisoning keys', async () => {
    const key = uniqueName('k');
    const answer = await send({
      payload: '{"action":{"type":"A","id":"b"},"resource":{"type":"R","id":"x"},"__proto__":{"admin":true}}',
      contentType: 'application/json',
      key,
    });
    expect(answer.statusCode).toBe(400);
    await expectNothingStartedUnder(key);
  });

  it('answers 400 when a route requires an Idempotency-Key and none is sent, and for a key that is not printable ASCII', async () => {
    expectProblem(
      await send({ url: '/v1/jobs/deploy-check', payload: query }),
      400,
      'GATEHOUSE_IDEMPOTENCY_KEY_REQUIRED',
    );
    expectProblem(
      await send({ url: '/v1/jobs/deploy-check', payload: query, key: 'x'.repeat(300) }),
      400,
      'GATEHOUSE_BAD_REQUEST',
    );
    expectProblem(
      await send({ url: '/v1/jobs/deploy-check', payload: query, key: 'has space' }),
      400,
      'GATEHOUSE_BAD_REQUEST',
    );
  });

  it('answers 404 problem+json for unknown paths', async () => {
    const answer = await h.app.inject({ url: '/v2/whatever' });
    expectProblem(answer, 404, 'GATEHOUSE_NOT_FOUND');
  });
});

describe('answers that stay small and well-formed', () => {
  it('lists at most 20 schema problems, however many the body has', async () => {
    // 150 properties the schema does not allow: 150 problems.
    const extra = Object.fromEntries(Array.from({ length: 150 }, (_, i) => [`k${i}`, i]));
    const answer = await send({
      url: '/v1/jobs/deploy-check',
      payload: { ...query, ...extra },
      key: uniqueName('many'),
    });
    expect(answer.statusCode).toBe(400);
    const problem = answer.json();
    expect(problem.errors).toHaveLength(20);
    expect(problem.detail).toContain('(130 more problems not listed)');
  });

  it('answers headers over the limit with a problem+json 431, not a bare parser error', async () => {
    const address = await h.app.listen({ host: '127.0.0.1', port: 0 });
    const answer = await fetch(`${address}/healthz`, { headers: { 'x-padding': 'y'.repeat(40_000) } });
    expect(answer.status).toBe(431);
    expect(answer.headers.get('content-type')).toBe('application/problem+json');
    expect(((await answer.json()) as { code: string }).code).toBe('GATEHOUSE_HEADERS_TOO_LARGE');
    // Within the limit (a 20 KB header, as a large token would be) is fine.
    expect((await fetch(`${address}/healthz`, { headers: { 'x-padding': 'y'.repeat(20_000) } })).status).toBe(200);
  });
});
