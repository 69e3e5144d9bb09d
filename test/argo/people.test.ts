// People through the edge to a real Argo (docs/sign-in.md, "Argo behind the gate"): a person signs
// in at the development issuer and reaches two real Argo servers in `--auth-mode=client` through
// the real HAProxy, as the ServiceAccount their Cedar grant maps to (deploy/argo/people-rbac.yaml
// in each namespace, long-lived token Secrets, Roles per namespace on the real kube-apiserver).
// They list and submit in their team's namespace; another team's is refused at the edge with an
// audit line, and a namespace the edge lets through with the wrong token (a token map line an
// operator got wrong) is refused by Kubernetes RBAC. Forged identity headers do not change who
// Argo sees (Argo's own /userinfo says). Cross-site changes, a 1 MB upload, a server killed
// mid-session, and the same in Chromium. What exact headers reached Argo is checked against a
// recording stand-in in test/integration/sign-in-edge.test.ts.
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser as Chromium, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { launchChromium } from '../helpers/chromium.js';
import type { ArgoBed } from '../../src/dev/argo-bed/argo-bed.js';
import { getWorkflow, listWorkflows, startTestArgoBed } from '../helpers/argo-bed.js';
import { edgeServerStats, startEdgeHarness, type EdgeHarness } from '../helpers/edge.js';
import { uniqueName } from '../helpers/gatehouse.js';
import { testLogDir } from '../helpers/log-files.js';
import { Browser } from '../helpers/sign-in.js';

const namespaces = ['team-a', 'team-b', 'team-c'];
const shots = join(testLogDir, 'argo-people');
let bed: ArgoBed;
let e: EdgeHarness;
let base: string;
let chromiumBrowser: Chromium;
const tokens: Record<string, string> = {};
const edgeLog: string[] = [];
const json = { accept: 'application/json' };
const sameOrigin = { 'content-type': 'application/json', 'sec-fetch-site': 'same-origin' };

/** A ServiceAccount's long-lived token, once the controller manager has filled its Secret. */
async function secretToken(namespace: string, secret: string): Promise<string> {
  let token = '';
  await vi.waitFor(
    async () => {
      token = Buffer.from(
        await bed.kubectl(['-n', namespace, 'get', 'secret', secret, '-o', 'jsonpath={.data.token}']),
        'base64',
      ).toString('utf8');
      expect(token).toMatch(/^ey/);
    },
    { timeout: 60_000, interval: 250 },
  );
  return token;
}

beforeAll(async () => {
  mkdirSync(shots, { recursive: true });
  bed = await startTestArgoBed({ authModes: ['client'], namespaces });
  for (const namespace of namespaces) {
    await bed.kubectl(['-n', namespace, 'apply', '--server-side', '-f', 'deploy/argo/people-rbac.yaml']);
    for (const role of ['view', 'edit']) {
      tokens[`${namespace}:${role}`] = await secretToken(namespace, `gatehouse-people-${role}-token`);
    }
  }
  // team-c's line holds team-a's token: the mistake defence in depth is for. The edge lets a
  // person Cedar granted team-c through; Kubernetes RBAC refuses that token there.
  const map = { ...tokens, 'team-c:edit': tokens['team-a:edit']! };
  const tokenMap = join(bed.dir, 'argo-tokens.map');
  writeFileSync(
    tokenMap,
    Object.entries(map)
      .map(([key, token]) => `${key} ${token}\n`)
      .join(''),
    { mode: 0o600 },
  );
  const policies = join(bed.dir, 'people.cedar');
  writeFileSync(
    policies,
    `permit (principal in Gatehouse::Group::"maintainers", action == Gatehouse::Action::"argo-edit", resource == Gatehouse::ArgoNamespace::"team-a");
permit (principal in Gatehouse::Group::"maintainers", action == Gatehouse::Action::"argo-edit", resource == Gatehouse::ArgoNamespace::"team-c");
permit (principal in Gatehouse::Group::"viewers", action == Gatehouse::Action::"argo-view", resource == Gatehouse::ArgoNamespace::"team-a");
`,
  );
  e = await startEdgeHarness(
    { EDGE_ARGO_1: bed.servers[0]!.address, EDGE_ARGO_2: bed.servers[1]!.address, EDGE_ARGO_TOKENS: tokenMap },
    {
      signIn: { overrides: { argo: { identity: 'serviceAccount', namespaces } } },
      overlay: { policy: { policies, schema: null } },
      edgeLog: (chunk) => {
        edgeLog.push(...chunk.split('\n').filter(Boolean));
        appendFileSync(process.env.GATEHOUSE_TEST_LOG ?? '/dev/null', chunk.replace(/^/gm, '[haproxy] '));
      },
    },
  );
  base = `https://${e.env.EDGE_HTTPS_BIND}`;
  chromiumBrowser = await launchChromium();
}, 300_000);

afterAll(async () => {
  await chromiumBrowser?.close();
  await e?.close();
  await bed?.stop();
});

const audits = () =>
  edgeLog.flatMap((line) => {
    const start = line.indexOf('{"audit"');
    return start < 0 ? [] : [JSON.parse(line.slice(start)) as Record<string, unknown>];
  });

async function signedIn(groups: string[]) {
  const browser = new Browser();
  const username = uniqueName('person');
  const landed = await browser.signIn(`${base}/argo/`, username, groups);
  return { browser, username, principal: `jwt:${e.issuer.issuer}#${username}`, landed };
}

function manifest(name = uniqueName('people')) {
  return {
    metadata: { name },
    spec: {
      entrypoint: 'main',
      templates: [{ name: 'main', container: { name: '', image: 'alpine:3', command: ['true'] } }],
    },
  };
}

/** Requests HAProxy passed to each people's Argo server (health checks not counted). */
async function argoPeopleSessions() {
  const stats = await edgeServerStats(e.edge.adminSocket, 'argo_people');
  const of = (name: string) => stats[name] ?? { status: 'unknown', sessions: NaN };
  return { argo1: of('argo1'), argo2: of('argo2') };
}
const totalSessions = async () => {
  const s = await argoPeopleSessions();
  return s.argo1.sessions + s.argo2.sessions;
};

describe('a signed-in person and a real Argo', () => {
  it('lists and submits in their team namespace as the ServiceAccount their grant maps to, and the change is audited', async () => {
    const { browser, principal, landed } = await signedIn(['maintainers']);
    // Argo's own answer outside its API: this build has no UI files (docs/sign-in.md).
    expect(landed.body).toContain('Built without static files');
    const who = await browser.request(`${base}/argo/api/v1/userinfo`, { headers: json });
    expect(who.status, who.body).toBe(200);
    expect(JSON.parse(who.body)).toMatchObject({ subject: 'system:serviceaccount:team-a:gatehouse-people-edit' });
    const list = await browser.request(`${base}/argo/api/v1/workflows/team-a`, { headers: json });
    expect(list.status, list.body).toBe(200);

    const name = uniqueName('people-submit');
    const submitted = await browser.request(`${base}/argo/api/v1/workflows/team-a`, {
      method: 'POST',
      headers: sameOrigin,
      body: JSON.stringify({ workflow: manifest(name) }),
    });
    expect(submitted.status, submitted.body).toBe(200);
    // Kubernetes stored it as created by the ServiceAccount, and Argo's controller runs it.
    const stored = await getWorkflow(bed, 'team-a', name);
    expect(stored.metadata.labels?.['workflows.argoproj.io/creator']).toBe(
      'system-serviceaccount-team-a-gatehouse-people-edit',
    );
    await vi.waitFor(async () => expect((await getWorkflow(bed, 'team-a', name)).status?.phase).toBe('Succeeded'), {
      timeout: 60_000,
      interval: 500,
    });
    const listed = await browser.request(`${base}/argo/api/v1/workflows/team-a`, { headers: json });
    expect(
      (JSON.parse(listed.body) as { items: Array<{ metadata: { name: string } }> }).items.map((w) => w.metadata.name),
    ).toContain(name);
    // Gatehouse's log names the person Argo cannot see.
    const line = await vi.waitFor(() => {
      const found = audits().find((a) => a.principal === principal && a.method === 'POST');
      expect(found).toBeDefined();
      return found!;
    });
    expect(line).toMatchObject({
      decision: 'allow',
      namespace: 'team-a',
      role: 'edit',
      upstream: 'argo',
      path: '/argo/api/v1/workflows/team-a',
      status: 200,
    });
    expect(line.trace_id).toMatch(/^[0-9a-f]{32}$/);
  });

  it("refuses another team's namespace at the edge, with an audit line, before Argo", async () => {
    const { browser, principal } = await signedIn(['maintainers']);
    const before = await totalSessions();
    const read = await browser.request(`${base}/argo/api/v1/workflows/team-b`, { headers: json });
    expect(read.status).toBe(403);
    expect(read.headers['content-type']).toBe('application/problem+json');
    expect(JSON.parse(read.body)).toMatchObject({ code: 'GATEHOUSE_FORBIDDEN' });
    const change = await browser.request(`${base}/argo/api/v1/workflows/team-b`, {
      method: 'POST',
      headers: sameOrigin,
      body: JSON.stringify({ workflow: manifest() }),
    });
    expect(change.status).toBe(403);
    expect(JSON.parse(change.body)).toMatchObject({ code: 'GATEHOUSE_FORBIDDEN' });
    expect(await totalSessions()).toBe(before);
    expect(await listWorkflows(bed, 'team-b', 'workflows.argoproj.io/creator')).toEqual([]);
    const denied = await vi.waitFor(() => {
      const found = audits().find((a) => a.principal === principal && a.method === 'POST');
      expect(found).toBeDefined();
      return found!;
    });
    expect(denied).toMatchObject({
      decision: 'deny',
      reason: 'namespace not granted',
      namespace: 'team-b',
      upstream: 'argo',
      path: '/argo/api/v1/workflows/team-b',
    });
  });

  it('is refused by Kubernetes RBAC where the edge lets a wrong token through, and a viewer cannot change anything', async () => {
    const { browser, principal } = await signedIn(['maintainers']);
    // team-c is granted, but its map line holds team-a's token: Argo asks Kubernetes, which refuses.
    const read = await browser.request(`${base}/argo/api/v1/workflows/team-c`, { headers: json });
    expect(read.status, read.body).toBe(403);
    expect(JSON.parse(read.body)).toMatchObject({ code: 7 });
    const change = await browser.request(`${base}/argo/api/v1/workflows/team-c`, {
      method: 'POST',
      headers: sameOrigin,
      body: JSON.stringify({ workflow: manifest() }),
    });
    expect(change.status, change.body).toBe(403);
    expect(JSON.parse(change.body)).toMatchObject({ code: 7 });
    expect(await listWorkflows(bed, 'team-c', 'workflows.argoproj.io/creator')).toEqual([]);
    // The edge allowed it, and its audit line records what Argo answered.
    const line = await vi.waitFor(() => {
      const found = audits().find((a) => a.principal === principal && a.namespace === 'team-c');
      expect(found).toBeDefined();
      return found!;
    });
    expect(line).toMatchObject({ decision: 'allow', role: 'edit', method: 'POST', status: 403 });

    const { browser: viewer } = await signedIn(['viewers']);
    const who = await viewer.request(`${base}/argo/api/v1/userinfo`, { headers: json });
    expect(JSON.parse(who.body)).toMatchObject({ subject: 'system:serviceaccount:team-a:gatehouse-people-view' });
    expect((await viewer.request(`${base}/argo/api/v1/workflows/team-a`, { headers: json })).status).toBe(200);
    const refused = await viewer.request(`${base}/argo/api/v1/workflows/team-a`, {
      method: 'POST',
      headers: sameOrigin,
      body: JSON.stringify({ workflow: manifest() }),
    });
    expect(refused.status).toBe(403);
    expect(JSON.parse(refused.body)).toMatchObject({ code: 'GATEHOUSE_FORBIDDEN' });
    // Had the edge let it through, the view ServiceAccount could not have created it either.
    const direct = await fetch(`${bed.servers[0]!.url}/api/v1/workflows/team-a`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${tokens['team-a:view']}` },
      body: JSON.stringify({ workflow: manifest() }),
    });
    expect(direct.status).toBe(403);
  });

  it('shows Argo the mapped ServiceAccount whatever identity headers the browser forges', async () => {
    const { browser } = await signedIn(['maintainers']);
    const forged = {
      ...json,
      authorization: `Bearer ${tokens['team-b:edit']}`,
      'x-auth-subject': 'someone-else',
      'x-forwarded-user': 'admin',
      'x-remote-user': 'admin',
      'impersonate-user': 'system:admin',
    };
    const who = await browser.request(`${base}/argo/api/v1/userinfo`, { headers: forged });
    expect(JSON.parse(who.body)).toMatchObject({ subject: 'system:serviceaccount:team-a:gatehouse-people-edit' });
    const other = await browser.request(`${base}/argo/api/v1/workflows/team-b`, { headers: forged });
    expect(other.status).toBe(403);
    expect(JSON.parse(other.body)).toMatchObject({ code: 'GATEHOUSE_FORBIDDEN' });
    // A ServiceAccount token alone, without a session, opens nothing on people's paths.
    const bare = await new Browser().request(`${base}/argo/api/v1/workflows/team-b`, { headers: forged });
    expect(bare.status).toBe(401);
    expect(JSON.parse(bare.body)).toMatchObject({ code: 'GATEHOUSE_SESSION_INVALID' });
  });

  it('refuses a cross-site change riding on the session cookie, and Argo stores nothing', async () => {
    const { browser } = await signedIn(['maintainers']);
    const name = uniqueName('cross-site');
    const variants: Array<Record<string, string>> = [
      { 'sec-fetch-site': 'cross-site' },
      { origin: 'https://evil.example' },
    ];
    for (const headers of variants) {
      const answer = await browser.request(`${base}/argo/api/v1/workflows/team-a`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ workflow: manifest(name) }),
      });
      expect(answer.status).toBe(403);
      expect(JSON.parse(answer.body)).toMatchObject({ code: 'GATEHOUSE_CROSS_SITE_REQUEST' });
    }
    await expect(getWorkflow(bed, 'team-a', name)).rejects.toThrow(/not found/i);
  });

  it('takes a 1 MB workflow upload with a session cookie of many groups, and Argo runs it', async () => {
    const groups = ['maintainers', ...Array.from({ length: 40 }, (_, i) => `team-with-a-long-group-name-${i}`)];
    const { browser } = await signedIn(groups);
    expect(browser.cookies(base).get('__Host-gh_session')!.length).toBeGreaterThan(1500);
    // A hundred templates of 10 KB (Argo refuses a stored Workflow over 1 MiB; docs/argo.md).
    const filler = 'x'.repeat(10_000);
    const big = manifest(uniqueName('people-big'));
    big.spec.templates.push(
      ...Array.from({ length: 100 }, (_, i) => ({
        name: `generated-${i}`,
        container: { name: '', image: 'alpine:3', command: ['true', filler] },
      })),
    );
    const body = JSON.stringify({ workflow: big });
    expect(body.length).toBeGreaterThan(1_000_000);
    const answer = await browser.request(`${base}/argo/api/v1/workflows/team-a`, {
      method: 'POST',
      headers: sameOrigin,
      body,
    });
    expect(answer.status, answer.body.slice(0, 500)).toBe(200);
    await vi.waitFor(
      async () => expect((await getWorkflow(bed, 'team-a', big.metadata.name)).status?.phase).toBe('Succeeded'),
      { timeout: 60_000, interval: 500 },
    );
  });

  it('keeps a person on one Argo server, and carries on when that server is killed mid-session', async () => {
    await vi.waitFor(
      async () => {
        const s = await argoPeopleSessions();
        expect([s.argo1.status, s.argo2.status]).toEqual(['UP', 'UP']);
      },
      { timeout: 30_000, interval: 250 },
    );
    const { browser } = await signedIn(['maintainers']);
    const before = await argoPeopleSessions();
    for (let i = 0; i < 4; i += 1) {
      expect((await browser.request(`${base}/argo/api/v1/workflows/team-a`, { headers: json })).status).toBe(200);
    }
    const after = await argoPeopleSessions();
    const used = [after.argo1.sessions - before.argo1.sessions, after.argo2.sessions - before.argo2.sessions];
    expect([...used].sort()).toEqual([0, 4]);
    const victim = bed.servers[used[0]! > 0 ? 0 : 1]!;
    await victim.kill();
    try {
      const answer = await browser.request(`${base}/argo/api/v1/workflows/team-a`, { headers: json });
      expect(answer.status, answer.body).toBe(200);
      const name = uniqueName('people-failover');
      const submitted = await browser.request(`${base}/argo/api/v1/workflows/team-a`, {
        method: 'POST',
        headers: sameOrigin,
        body: JSON.stringify({ workflow: manifest(name) }),
      });
      expect(submitted.status, submitted.body).toBe(200);
      expect((await getWorkflow(bed, 'team-a', name)).metadata.name).toBe(name);
    } finally {
      await victim.start();
    }
  });
});

describe('a person in Chromium and a real Argo', () => {
  async function signIn(page: Page, username: string, groups: string) {
    await page.goto(`${base}/argo/`);
    await page.getByLabel('User name').fill(username);
    await page.getByLabel('Groups (comma-separated)').fill(groups);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL((url) => url.origin === base && url.pathname.startsWith('/argo/'));
  }

  it("signs in to Argo, uses its API as their team's ServiceAccount, is refused another team, and signs out", async () => {
    const context = await chromiumBrowser.newContext({ ignoreHTTPSErrors: true });
    const page = await context.newPage();
    await signIn(page, uniqueName('maria'), 'maintainers');
    await expect.poll(() => page.textContent('body')).toContain('Built without static files');
    await page.screenshot({ path: join(shots, 'argo-landing.png') });
    const name = uniqueName('browser');
    const api = await page.evaluate(async (workflowName) => {
      const who = await (await fetch('/argo/api/v1/userinfo')).json();
      const list = await fetch('/argo/api/v1/workflows/team-a');
      const submit = await fetch('/argo/api/v1/workflows/team-a', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          workflow: {
            metadata: { name: workflowName },
            spec: {
              entrypoint: 'main',
              templates: [{ name: 'main', container: { name: '', image: 'alpine:3', command: ['true'] } }],
            },
          },
        }),
      });
      const other = await fetch('/argo/api/v1/workflows/team-b');
      return { who, list: list.status, submit: submit.status, other: other.status, otherBody: await other.json() };
    }, name);
    expect(api).toMatchObject({
      who: { subject: 'system:serviceaccount:team-a:gatehouse-people-edit' },
      list: 200,
      submit: 200,
      other: 403,
      otherBody: { code: 'GATEHOUSE_FORBIDDEN' },
    });
    expect((await getWorkflow(bed, 'team-a', name)).metadata.labels?.['workflows.argoproj.io/creator']).toBe(
      'system-serviceaccount-team-a-gatehouse-people-edit',
    );
    // The same refusal as a page navigation is a page for a person, not JSON.
    const refused = await page.goto(`${base}/argo/api/v1/workflows/team-b`);
    expect(refused?.status()).toBe(403);
    await expect(page.getByRole('heading', { name: 'Not allowed' }).isVisible()).resolves.toBe(true);
    await page.screenshot({ path: join(shots, 'argo-refused.png') });

    await page.getByRole('link', { name: 'Sign out' }).click();
    await page.waitForURL(`${base}/auth/signed-out`);
    await expect.poll(() => page.textContent('h1')).toBe('You are signed out');
    await page.goto(`${base}/argo/`);
    await expect(page.getByRole('heading', { name: 'Sign in to the development issuer' }).isVisible()).resolves.toBe(
      true,
    );
    await context.close();
  });
});
