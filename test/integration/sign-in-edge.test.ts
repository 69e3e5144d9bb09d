// Browser sign-in through the real HAProxy (Debian's 2.6.12) in front of two real bridges, with
// the development issuer as the IdP: the sign-in with PKCE and the return path, the session
// cookie verified at the edge, the Lua refresh, logout at the IdP too, the attacks the edge must
// refuse, and what reaches Argo (two recording Argo servers: test/helpers/fake-argo.ts, a seam for
// the real Argo test bed) and the Temporal dev server's Web UI. A cookie-keeping HTTP client walks
// the flows here; test/integration/sign-in-browser.test.ts does it in Chromium.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { base64url, importJWK, SignJWT, type CryptoKey } from 'jose';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { freePort } from '../../src/dev/temporal-dev-server.js';
import { startEdgeHarness, type EdgeHarness } from '../helpers/edge.js';
import { startFakeArgo, type FakeArgo } from '../helpers/fake-argo.js';
import { uniqueName } from '../helpers/harness.js';
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
      configure: (config) => {
        config.policy.policies = policies;
        delete config.policy.schema;
      },
      edgeLog: (chunk) => edgeLog.push(...chunk.split('\n').filter(Boolean)),
    },
  );
  base = `https://${e.env.EDGE_HTTPS_BIND}`;
}, 90_000);
afterAll(async () => {
  for (const server of argo) await server.close();
  await e?.close();
});

const argoRequests = () => argo.flatMap((server) => server.requests);
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
    const [header, payload] = session.split('.').map((part) => JSON.parse(base64url.decode(part).toString()));
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
