// Browser sign-in through the real HAProxy (Debian's 2.6.12) in front of two real bridges, with
// the development issuer as the IdP: the sign-in with PKCE and the return path, the session
// cookie verified at the edge, the Lua refresh, logout at the IdP too, the attacks the edge must
// refuse, the refusal page a person's browser gets, and the Temporal dev server's Web UI. Argo here
// is two recording stand-ins (test/helpers/fake-argo.ts), kept only for what a real Argo cannot
// show: the exact headers and cookies each request carried to it. What a person can and cannot do
// in a real Argo, as which ServiceAccount, is tested on the Argo bed (test/argo/people.test.ts). A
// cookie-keeping HTTP client walks the flows here; test/integration/sign-in-browser.test.ts does
// it in Chromium.
import { appendFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { Agent } from 'node:https';
import { join } from 'node:path';
import { base64url, importJWK, SignJWT, type CryptoKey } from 'jose';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { freePort } from '../../src/dev/temporal-dev-server.js';
import { send, startEdgeHarness, type EdgeHarness } from '../helpers/edge.js';
import { startFakeArgo, type FakeArgo } from '../helpers/fake-argo.js';
import { uniqueName } from '../helpers/gatehouse.js';
import { Browser } from '../helpers/sign-in.js';

let e: EdgeHarness;
let base: string;
const argo: FakeArgo[] = [];
const edgeLog: string[] = [];
const tokens = { 'team-a:edit': 'sa-team-a-edit', 'team-a:view': 'sa-team-a-view', 'team-b:edit': 'sa-team-b-edit' };
/** What Kubernetes RBAC would say: each ServiceAccount token acts in its own namespace only. */
const accept = (authorization: string | undefined, namespace: string | undefined) => {
  const entry = Object.entries(tokens).find(([, token]) => authorization === `Bearer ${token}`);
  return entry !== undefined && (namespace === undefined || entry[0].startsWith(`${namespace}:`));
};

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-sign-in-'));
  const policies = join(dir, 'people.cedar');
  writeFileSync(
    policies,
    `permit (principal in Gatehouse::Group::"maintainers", action == Gatehouse::Action::"argo-edit", resource == Gatehouse::ArgoNamespace::"team-a");
permit (principal in Gatehouse::Group::"viewers", action == Gatehouse::Action::"argo-view", resource == Gatehouse::ArgoNamespace::"team-a");
permit (principal in Gatehouse::Group::"maintainers", action == Gatehouse::Action::"temporal-read", resource == Gatehouse::TemporalNamespace::"default");
`,
  );
  const tokenMap = join(dir, 'argo-tokens.map');
  writeFileSync(
    tokenMap,
    Object.entries(tokens)
      .map(([key, token]) => `${key} ${token}\n`)
      .join(''),
    { mode: 0o600 },
  );
  const ports = [await freePort(), await freePort()];
  for (const port of ports) {
    argo.push(
      await startFakeArgo({
        token: 'unused',
        accept,
        runMs: 60_000,
        templates: {},
        listen: { host: '127.0.0.1', port },
      }),
    );
  }
  e = await startEdgeHarness(
    {
      EDGE_ARGO_1: `127.0.0.1:${ports[0]}`,
      EDGE_ARGO_2: `127.0.0.1:${ports[1]}`,
      EDGE_ARGO_TOKENS: tokenMap,
      EDGE_TEMPORAL_UI: inject('temporalUiAddress'),
    },
    {
      signIn: {},
      overlay: { policy: { policies, schema: null } },
      edgeLog: (chunk) => {
        edgeLog.push(...chunk.split('\n').filter(Boolean));
        appendFileSync(process.env.GATEHOUSE_TEST_LOG ?? '/dev/null', chunk.replace(/^/gm, '[haproxy] '));
      },
    },
  );
  base = `https://${e.env.EDGE_HTTPS_BIND}`;
}, 90_000);
afterAll(async () => {
  for (const server of argo) await server.close();
  await e?.close();
});

const argoRequests = () => argo.flatMap((server) => server.requests).sort((a, b) => a.seq - b.seq);
const lastArgoRequest = (path: string) =>
  argoRequests()
    .filter((r) => r.path === path)
    .at(-1);
const audits = () =>
  edgeLog.flatMap((line) => {
    const start = line.indexOf('{"audit"');
    return start < 0 ? [] : [JSON.parse(line.slice(start)) as Record<string, unknown>];
  });

async function signedIn(groups: string[], username = uniqueName('person')) {
  const browser = new Browser();
  const landed = await browser.signIn(`${base}/argo/`, username, groups);
  return { browser, username, landed };
}

describe('signing in at the edge', () => {
  it('sends a page navigation without a session to sign in, and answers an API call with 401 problem+json', async () => {
    const browser = new Browser();
    const page = await browser.request(`${base}/argo/workflows?limit=5`, {
      headers: { 'sec-fetch-mode': 'navigate', accept: 'text/html' },
    });
    expect(page.status).toBe(302);
    expect(page.headers.location).toBe('/auth/login?rd=%2Fargo%2Fworkflows%3Flimit%3D5');
    const api = await browser.request(`${base}/argo/api/v1/workflows/team-a`, {
      headers: { 'sec-fetch-mode': 'cors', accept: 'application/json' },
    });
    expect(api.status).toBe(401);
    expect(api.headers['content-type']).toBe('application/problem+json');
    expect(JSON.parse(api.body)).toMatchObject({ code: 'GATEHOUSE_SESSION_INVALID' });
    expect(argoRequests().filter((r) => r.path.startsWith('/api/v1/workflows/team-a'))).toHaveLength(0);
  });

  it('signs in with PKCE at the IdP, comes back to the page asked for, and sets only __Host- cookies', async () => {
    const browser = new Browser();
    const login = await browser.navigate(`${base}/argo/workflows?limit=5`);
    // The IdP's sign-in page, asked for with PKCE S256, a state and a nonce.
    const authorize = new URL(login.url);
    expect(authorize.origin).toBe(e.issuer.issuer);
    expect(authorize.searchParams.get('code_challenge_method')).toBe('S256');
    expect(authorize.searchParams.get('state')).toMatch(/^[A-Za-z0-9_-]{20,}$/);
    expect(authorize.searchParams.get('nonce')).toMatch(/^[A-Za-z0-9_-]{20,}$/);
    expect(authorize.searchParams.get('redirect_uri')).toBe(`${base}/auth/callback`);
    const username = uniqueName('alice');
    const back = await browser.signIn(`${base}/argo/workflows?limit=5`, username, ['maintainers']);
    expect(new URL(back.url).pathname + new URL(back.url).search).toBe('/argo/workflows?limit=5');
    const cookies = browser.cookies(base);
    // The finished sign-in's own cookie is gone; the one begun by the first navigation (never
    // finished) stays until it expires.
    expect([...cookies.keys()].filter((name) => !name.startsWith('__Host-gh_tx_')).sort()).toEqual([
      '__Host-gh_logout',
      '__Host-gh_refresh',
      '__Host-gh_session',
    ]);
    expect([...cookies.keys()].filter((name) => name.startsWith('__Host-gh_tx_'))).toHaveLength(1);
    const session = cookies.get('__Host-gh_session')!;
    const [header, payload] = session
      .split('.')
      .slice(0, 2)
      .map((part) => JSON.parse(new TextDecoder().decode(base64url.decode(part))));
    expect(header).toMatchObject({ alg: 'ES256', typ: 'gatehouse-session+jwt' });
    // The IdP's issuer and subject: the same principal as this person's bearer tokens.
    expect(payload).toMatchObject({
      iss: e.issuer.issuer,
      sub: username,
      aud: 'gatehouse-session',
      gh_argo: 'team-a:edit',
    });
    // The refresh token is sealed: nothing of it is readable in the cookie.
    expect(cookies.get('__Host-gh_refresh')!.split('.')).toHaveLength(5);
    // What reached Argo: the ServiceAccount token for the person's grant, no cookie of ours, no identity header.
    const seen = lastArgoRequest('/workflows')!;
    expect(seen.headers.authorization).toBe('Bearer sa-team-a-edit');
    expect(String(seen.headers.cookie ?? '')).not.toContain('__Host-gh_');
    expect(Object.keys(seen.headers).filter((name) => name.startsWith('x-auth-'))).toEqual([]);
  });

  it('sets its cookies with Secure, HttpOnly, SameSite=Lax and Path=/', async () => {
    const browser = new Browser();
    const login = await browser.request(`${base}/auth/login?rd=/argo/`);
    expect(login.status).toBe(302);
    const cookie = [login.headers['set-cookie'] ?? []].flat()[0]!;
    expect(cookie).toMatch(/^__Host-gh_tx_[0-9a-f]{16}=/);
    for (const attribute of ['Secure', 'HttpOnly', 'SameSite=Lax', 'Path=/']) expect(cookie).toContain(attribute);
    expect(cookie).not.toMatch(/Domain=/i);
  });
});

/** A session token signed as the bridges would (their key, unless another is given). */
async function forgeSession(
  claims: Record<string, unknown>,
  options: { key?: CryptoKey; kid?: string; expiresIn?: number } = {},
) {
  const jwks = JSON.parse(e.config.signInSecrets!.sessionKeys.reveal()) as { keys: Array<Record<string, unknown>> };
  const [jwk] = jwks.keys;
  const key = options.key ?? ((await importJWK(jwk as never, 'ES256')) as CryptoKey);
  const now = Math.floor(Date.now() / 1000);
  const { iss = e.issuer.issuer, aud = 'gatehouse-session', ...rest } = claims as { iss?: string; aud?: string };
  return new SignJWT({ gh_argo: 'team-a:edit', gh_temporal: '*:write', sid: 'forged', ...rest })
    .setProtectedHeader({ alg: 'ES256', kid: options.kid ?? String(jwk!.kid), typ: 'gatehouse-session+jwt' })
    .setIssuer(iss)
    .setSubject(uniqueName('forged'))
    .setAudience(aud)
    .setIssuedAt(now)
    .setNotBefore(now - 5)
    .setExpirationTime(now + (options.expiresIn ?? 600))
    .sign(key);
}

async function withCookie(
  session: string,
  path = '/argo/api/v1/workflows/team-a',
  headers: Record<string, string> = { accept: 'application/json' },
) {
  const browser = new Browser();
  browser.cookies(base).set('__Host-gh_session', session);
  return browser.request(`${base}${path}`, { headers });
}

describe('what a signed-in person may do', () => {
  it("sends Argo the mapped ServiceAccount's token and the edge's own trace, which the audit line names", async () => {
    const { browser, username } = await signedIn(['maintainers']);
    const list = await browser.request(`${base}/argo/api/v1/workflows/team-a`, {
      headers: { accept: 'application/json' },
    });
    expect(list.status, `${list.body} ${edgeLog.filter((l) => / 401 /.test(l)).join('\n')}`).toBe(200);
    const manifest = {
      metadata: { name: uniqueName('wf') },
      spec: { entrypoint: 'main', templates: [{ name: 'main', container: { image: 'alpine' } }] },
    };
    const submitted = await browser.request(`${base}/argo/api/v1/workflows/team-a`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'sec-fetch-site': 'same-origin',
        traceparent: `00-${'ab'.repeat(16)}-${'cd'.repeat(8)}-01`,
      },
      body: JSON.stringify({ workflow: manifest }),
    });
    expect(submitted.status).toBe(200);
    const received = lastArgoRequest('/api/v1/workflows/team-a');
    expect(received).toMatchObject({ method: 'POST', headers: { authorization: 'Bearer sa-team-a-edit' } });
    // The edge starts a trace of its own (a caller's traceparent is only a link): the audit line
    // carries the trace id Argo was sent, not the one the caller chose.
    const traceId = received?.traceparent?.split('-')[1];
    expect(traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(traceId).not.toBe('ab'.repeat(16));
    const line = await waitFor(() => audits().find((a) => a.trace_id === traceId));
    expect(line).toMatchObject({
      principal: `jwt:${e.issuer.issuer}#${username}`,
      decision: 'allow',
      namespace: 'team-a',
      role: 'edit',
      upstream: 'argo',
      method: 'POST',
      path: '/argo/api/v1/workflows/team-a',
      status: 200,
    });
  });

  it("replaces forged Authorization, X-Auth-* and X-Forwarded-* headers, and strips Gatehouse's cookies but not Argo's own", async () => {
    const { browser } = await signedIn(['maintainers']);
    browser.cookies(base).set('argo_pref', 'dark');
    await browser.request(`${base}/argo/api/v1/workflows/team-a?forged=1`, {
      headers: {
        authorization: 'Bearer sa-team-b-edit',
        'x-auth-subject': 'someone-else',
        'x-forwarded-user': 'admin',
        'x-forwarded-for': '10.1.2.3',
      },
    });
    const seen = lastArgoRequest('/api/v1/workflows/team-a')!;
    expect(seen.headers.authorization).toBe('Bearer sa-team-a-edit');
    expect(seen.headers['x-auth-subject']).toBeUndefined();
    expect(seen.headers['x-forwarded-user']).toBeUndefined();
    expect(seen.headers['x-forwarded-for']).toBe('127.0.0.1');
    expect(seen.headers.cookie).toBe('argo_pref=dark');
  });

  it('uses the same session for Gatehouse API calls, as the same principal as a bearer token', async () => {
    const { browser, username } = await signedIn(['maintainers']);
    const jobs = await browser.request(`${base}/v1/jobs`, { headers: { accept: 'application/json' } });
    expect(jobs.status).toBe(200);
    const started = await browser.request(`${base}/v1/jobs/policy-check`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'sec-fetch-site': 'same-origin' },
      body: JSON.stringify({
        action: { type: 'Gatehouse::Action', id: 'read' },
        resource: { type: 'Gatehouse::Repository', id: 'acme/website' },
      }),
    });
    expect(started.status, started.body).toBe(202);
    const { jobId } = JSON.parse(started.body) as { jobId: string };
    const bearer = await e.issuer.mint({ sub: username });
    const read = await new Browser().request(`${base}/v1/jobs/${jobId}`, {
      headers: { authorization: `Bearer ${bearer}` },
    });
    expect(read.status).toBe(200);
    expect(JSON.parse(read.body).owner).toBe(`jwt:${e.issuer.issuer}#${username}`);
    const crossSite = await browser.request(`${base}/v1/jobs/policy-check`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'sec-fetch-site': 'cross-site' },
      body: '{}',
    });
    expect(crossSite.status).toBe(403);
  });
});

describe('a page refused to a person', () => {
  const navigate = { 'sec-fetch-mode': 'navigate', accept: 'text/html,application/xhtml+xml,*/*;q=0.8' };

  it('is a small HTML page naming the person, with a sign-out link; API and XHR calls keep problem+json', async () => {
    // viewers: Argo's team-a to read, no Temporal namespace.
    const { browser, username } = await signedIn(['viewers']);
    const page = await browser.request(`${base}/temporal/`, { headers: navigate });
    expect(page.status).toBe(403);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.headers['cache-control']).toBe('no-store');
    expect(page.headers['content-security-policy']).toContain("default-src 'none'");
    expect(page.body).toContain('<h1>Not allowed</h1>');
    expect(page.body).toContain('Your sign-in grants you no Temporal namespace.');
    expect(page.body).toContain(`You are signed in as ${username} (<code>jwt:${e.issuer.issuer}#${username}</code>)`);
    expect(page.body).toContain('<a href="/auth/logout">Sign out</a>');
    expect(page.body).toContain(`<code>${String(page.headers['x-request-id'])}</code>`);
    const denied = await waitFor(() =>
      audits().find((a) => a.principal === `jwt:${e.issuer.issuer}#${username}` && a.upstream === 'temporal'),
    );
    expect(denied).toMatchObject({ decision: 'deny', reason: 'no temporal namespace granted', path: '/temporal/' });
    // A browser without Fetch Metadata navigates with Accept: text/html.
    const legacy = await browser.request(`${base}/argo/api/v1/workflows/team-b`, { headers: { accept: 'text/html' } });
    expect(legacy.status).toBe(403);
    expect(legacy.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(legacy.body).toContain('Your sign-in does not grant you this namespace.');
    // Anything that is not a page navigation, or asks for JSON, gets the problem.
    const calls: Array<Record<string, string>> = [
      { accept: 'application/json' },
      { 'sec-fetch-mode': 'cors', accept: '*/*' },
      { 'sec-fetch-mode': 'navigate', accept: 'application/json' },
      {},
    ];
    for (const headers of calls) {
      const api = await browser.request(`${base}/temporal/`, { headers });
      expect(api.status, JSON.stringify(headers)).toBe(403);
      expect(api.headers['content-type'], JSON.stringify(headers)).toBe('application/problem+json');
      expect(JSON.parse(api.body)).toMatchObject({ code: 'GATEHOUSE_FORBIDDEN' });
    }
    // A refused change is never a page, even from a form.
    const change = await browser.request(`${base}/argo/api/v1/workflows/team-a`, {
      method: 'POST',
      headers: { ...navigate, 'sec-fetch-site': 'same-origin', 'content-type': 'application/json' },
      body: '{}',
    });
    expect(change.status).toBe(403);
    expect(change.headers['content-type']).toBe('application/problem+json');
  });

  it('escapes what the session says about the person', async () => {
    const session = await forgeSession({ name: '<script>alert(1)</script>', gh_argo: '', gh_temporal: '' });
    const page = await withCookie(session, '/argo/', navigate);
    expect(page.status).toBe(403);
    expect(page.body).toContain('Your sign-in grants you no Argo namespace.');
    expect(page.body).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(page.body).not.toContain('<script>');
  });
});

describe('sessions the edge refuses', () => {
  it('refuses a tampered, expired, wrong-issuer, wrong-audience, unknown-key, IdP-signed or alg-none cookie', async () => {
    const good = await forgeSession({});
    const [h, p, sig] = good.split('.');
    const stranger = await import('jose').then((jose) => jose.generateKeyPair('ES256'));
    const idpToken = await e.issuer.mint(
      { sub: uniqueName('idp'), gh_argo: 'team-a:edit' },
      { alg: 'ES256', audience: 'gatehouse-session' },
    );
    const cases: Record<string, string> = {
      tampered: `${h}.${base64url.encode(JSON.stringify({ ...JSON.parse(new TextDecoder().decode(base64url.decode(p!))), gh_argo: 'team-b:edit' }))}.${sig}`,
      'bad signature': `${h}.${p}.${sig!.slice(0, -4)}AAAA`,
      expired: await forgeSession({}, { expiresIn: -120 }),
      'wrong issuer': await forgeSession({ iss: 'https://evil.example' }),
      'wrong audience': await forgeSession({ aud: 'gatehouse' }),
      'retired or unknown key': await forgeSession({}, { key: stranger.privateKey, kid: 'retired-session-key' }),
      "the IdP's own token": idpToken,
      'alg none': `${base64url.encode(JSON.stringify({ alg: 'none', typ: 'gatehouse-session+jwt' }))}.${p}.`,
    };
    const before = argoRequests().length;
    for (const [name, cookie] of Object.entries(cases)) {
      const answer = await withCookie(cookie);
      expect(answer.status, name).toBe(401);
      expect(JSON.parse(answer.body).code, name).toBe('GATEHOUSE_SESSION_INVALID');
    }
    expect(argoRequests().length).toBe(before);
    expect((await withCookie(good)).status).toBe(200);
  });

  it('verifies a cookie again on a kept-alive connection unless it is byte for byte the session that passed on it', async () => {
    const good = await forgeSession({});
    const [h, p, sig] = good.split('.') as [string, string, string];
    const claims = JSON.parse(new TextDecoder().decode(base64url.decode(p))) as Record<string, unknown>;
    const forgeries: Record<string, string> = {
      'more grants under its signature': `${h}.${base64url.encode(JSON.stringify({ ...claims, gh_argo: 'team-b:edit' }))}.${sig}`,
      'its payload with a bad signature': `${h}.${p}.${sig.slice(0, -4)}AAAA`,
    };
    for (const [name, forged] of Object.entries(forgeries)) {
      const agent = new Agent({ keepAlive: true, maxSockets: 1, rejectUnauthorized: false });
      try {
        const list = (session: string) =>
          send(e.base, {
            path: '/argo/api/v1/workflows/team-a',
            headers: { cookie: `__Host-gh_session=${session}`, accept: 'application/json' },
            agent,
          });
        expect((await list(good)).status, name).toBe(200);
        const again = await list(good);
        expect([again.status, again.reused], name).toEqual([200, true]);
        const before = argoRequests().length;
        const refused = await list(forged);
        expect([refused.status, refused.reused], name).toEqual([401, true]);
        expect(refused.json<{ code: string }>().code, name).toBe('GATEHOUSE_SESSION_INVALID');
        expect(argoRequests().length, `${name} reached Argo`).toBe(before);
      } finally {
        agent.destroy();
      }
    }
  });

  it('does not take a session token as a bearer token, nor a bearer token as a session', async () => {
    const session = await forgeSession({});
    const asBearer = await new Browser().request(`${base}/v1/jobs`, {
      headers: { authorization: `Bearer ${session}` },
    });
    expect(asBearer.status).toBe(401);
    const bearer = await e.issuer.mint({ sub: uniqueName('b') }, { alg: 'ES256' });
    expect((await withCookie(bearer, '/v1/jobs')).status).toBe(401);
  });

  it('refreshes an expired session through the Lua action: the request succeeds and the browser gets a new cookie', async () => {
    const { browser } = await signedIn(['maintainers']);
    const refreshes = e.issuer.signIn!.stats.refreshes;
    const oldRefresh = browser.cookies(base).get('__Host-gh_refresh');
    browser.cookies(base).set('__Host-gh_session', await forgeSession({}, { expiresIn: -60 }));
    const answer = await browser.request(`${base}/argo/api/v1/workflows/team-a`, {
      headers: { accept: 'application/json' },
    });
    expect(answer.status).toBe(200);
    expect(e.issuer.signIn!.stats.refreshes).toBe(refreshes + 1);
    const renewed = browser.cookies(base).get('__Host-gh_session')!;
    const payload = JSON.parse(new TextDecoder().decode(base64url.decode(renewed.split('.')[1]!))) as { exp: number };
    expect(payload.exp).toBeGreaterThan(Date.now() / 1000 + 60);
    // The IdP rotated the refresh token; the browser holds the new one, sealed.
    expect(browser.cookies(base).get('__Host-gh_refresh')).not.toBe(oldRefresh);
    expect(String(lastArgoRequest('/api/v1/workflows/team-a')!.headers.cookie ?? '')).not.toContain('__Host-gh_');
    // A refresh token the IdP no longer honours ends the session: sign in again.
    e.issuer.signIn!.revokeAllRefreshTokens();
    browser.cookies(base).set('__Host-gh_session', await forgeSession({}, { expiresIn: -60 }));
    const ended = await browser.request(`${base}/argo/workflows`, { headers: { 'sec-fetch-mode': 'navigate' } });
    expect(ended.status).toBe(302);
    expect(ended.headers.location).toMatch(/^\/auth\/login\?rd=/);
    expect(browser.cookies(base).has('__Host-gh_refresh')).toBe(false);
  });

  it('never redirects off this origin after sign-in, whatever the return path says', async () => {
    const { browser } = await signedIn(['maintainers']);
    for (const rd of [
      '//evil.example/x',
      'https://evil.example/',
      '/\\evil.example',
      '/%0d%0aSet-Cookie:x=y',
      'javascript:alert(1)',
    ]) {
      // The IdP remembers the person, so the sign-in comes straight back with a code.
      const login = await browser.request(`${base}/auth/login?rd=${encodeURIComponent(rd)}`);
      const authorized = await browser.request(String(login.headers.location));
      const callback = await browser.request(String(authorized.headers.location));
      expect(callback.status, rd).toBe(302);
      const target = String(callback.headers.location);
      expect(new URL(target, base).origin, rd).toBe(base);
      expect(target.startsWith('/') && !target.startsWith('//') && !target.includes('\\'), rd).toBe(true);
    }
  });

  it('refuses a callback whose state this browser never sent', async () => {
    const browser = new Browser();
    const answer = await browser.request(`${base}/auth/callback?code=abc&state=${'x'.repeat(43)}`);
    expect(answer.status).toBe(400);
    expect(JSON.parse(answer.body).code).toBe('GATEHOUSE_SIGN_IN_FAILED');
  });
});

describe('signing out', () => {
  it('clears the cookies, revokes the refresh token, ends the IdP session, and the next visit signs in again', async () => {
    const { browser } = await signedIn(['maintainers']);
    const revocations = e.issuer.signIn!.stats.revocations;
    const out = await browser.navigate(`${base}/auth/logout`);
    expect(new URL(out.url).pathname).toBe('/auth/signed-out');
    expect(out.body).toContain('You are signed out');
    expect([...browser.cookies(base).keys()].filter((n) => !n.startsWith('__Host-gh_tx_'))).toEqual([]);
    expect(e.issuer.signIn!.stats.revocations).toBe(revocations + 1);
    const again = await browser.navigate(`${base}/argo/`);
    expect(again.body).toContain('Sign in to the development issuer');
  });
});

describe('the Temporal UI behind the gate', () => {
  it('serves it to an admin, lets a reader read its namespace only, and refuses someone without a grant', async () => {
    const { browser: admin } = await signedIn(['gatehouse-admins']);
    const page = await admin.navigate(`${base}/temporal/`);
    expect(page.status).toBe(200);
    expect(page.body).toMatch(/<html/i);
    expect((await admin.request(`${base}/temporal/api/v1/namespaces/default/workflows`)).status).toBe(200);
    const { browser: reader } = await signedIn(['maintainers']);
    expect((await reader.request(`${base}/temporal/api/v1/namespaces/default/workflows`)).status).toBe(200);
    const elsewhere = await reader.request(`${base}/temporal/api/v1/namespaces/temporal-system/workflows`);
    expect(elsewhere.status).toBe(403);
    const change = await reader.request(`${base}/temporal/api/v1/namespaces/default/workflows/x/terminate`, {
      method: 'POST',
      headers: { 'sec-fetch-site': 'same-origin', 'content-type': 'application/json' },
      body: '{}',
    });
    expect(change.status).toBe(403);
    const { browser: nobody } = await signedIn(['viewers']);
    expect((await nobody.request(`${base}/temporal/`)).status).toBe(403);
  });
});

async function waitFor<T>(find: () => T | undefined, timeoutMs = 5_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = find();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error('not seen in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}
