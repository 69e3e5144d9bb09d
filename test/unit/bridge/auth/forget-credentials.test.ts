// A long-poll drops its caller's credentials once the caller is known: the bearer token and the
// cookies are gone from the parsed headers, the raw header list and the parsed cookies, and
// nothing else of the request is.
import cookie from '@fastify/cookie';
import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { forgetCredentials } from '../../../../src/bridge/auth/forget-credentials.js';

const app = Fastify();

describe('forgetCredentials', () => {
  it('leaves no bearer token or cookie anywhere on the request, and keeps every other header', async () => {
    await app.register(cookie);
    app.get('/held', async (request) => {
      forgetCredentials(request);
      return { headers: request.headers, rawHeaders: request.raw.rawHeaders, cookies: request.cookies };
    });
    const token = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJwZXJzb24ifQ.c2lnbmF0dXJl';
    const answer = await app.inject({
      method: 'GET',
      url: '/held',
      headers: { Authorization: `Bearer ${token}`, Cookie: '__Host-gh_session=secret-session', 'x-request-id': 'r-1' },
    });
    expect(answer.statusCode).toBe(200);
    expect(answer.body).not.toContain(token);
    expect(answer.body).not.toContain('secret-session');
    const seen = answer.json<{ headers: Record<string, string>; rawHeaders: string[]; cookies: object }>();
    expect(seen.headers.authorization).toBeUndefined();
    expect(seen.headers.cookie).toBeUndefined();
    expect(seen.headers['x-request-id']).toBe('r-1');
    expect(seen.cookies).toEqual({});
    expect(seen.rawHeaders).toContain('r-1');
    await app.close();
  });
});
