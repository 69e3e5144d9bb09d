// A person with nothing but a browser: Debian's Chromium, driven by playwright-core (no browser
// download), through the real HAProxy. Opens /argo/ without a session, signs in at the development
// issuer's page, comes back to Argo as that person; from the same browser session lists the
// workflows of a granted namespace through Argo's API, submits one, is refused another team's;
// opens the Temporal UI as an admin and is refused it without a grant; signs out and is sent to
// sign in again. Argo here is a recording stand-in (test/helpers/fake-argo.ts); the Temporal UI
// is the dev server's own. Screenshots of each page go to the test's log folder.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { freePort } from '../../src/dev/temporal-dev-server.js';
import { launchChromium } from '../helpers/chromium.js';
import { startEdgeHarness, type EdgeHarness } from '../helpers/edge.js';
import { startFakeArgo, type FakeArgo } from '../helpers/fake-argo.js';
import { uniqueName } from '../helpers/harness.js';
import { testLogDir } from '../helpers/log-files.js';

let e: EdgeHarness;
let base: string;
let browser: Browser;
const argo: FakeArgo[] = [];
const shots = join(testLogDir, 'sign-in-browser');
const tokens = { 'team-a:edit': 'sa-team-a-edit', 'team-b:edit': 'sa-team-b-edit' };

beforeAll(async () => {
  mkdirSync(shots, { recursive: true });
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-browser-'));
  const tokenMap = join(dir, 'argo-tokens.map');
  writeFileSync(
    tokenMap,
    Object.entries(tokens)
      .map(([key, token]) => `${key} ${token}\n`)
      .join(''),
    { mode: 0o600 },
  );
  const accept = (authorization: string | undefined, namespace: string | undefined) => {
    const entry = Object.entries(tokens).find(([, token]) => authorization === `Bearer ${token}`);
    return entry !== undefined && (namespace === undefined || entry[0].startsWith(`${namespace}:`));
  };
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
      // The production default (the harness raises it for its API tests): a person's pages, which
      // load many assets each, must not run into the API's per-subject rate.
      EDGE_SUBJECT_RATE: '100',
    },
    {
      signIn: {},
      // The default policies: maintainers edit in every Argo namespace (config/policies).
      configure: (config) => {
        config.signIn!.argo.namespaces = ['team-a'];
      },
    },
  );
  base = `https://${e.env.EDGE_HTTPS_BIND}`;
  browser = await launchChromium();
}, 120_000);
afterAll(async () => {
  await browser?.close();
  for (const server of argo) await server.close();
  await e?.close();
});

async function signIn(page: Page, path: string, username: string, groups: string) {
  await page.goto(`${base}${path}`);
  await page.getByLabel('User name').fill(username);
  await page.getByLabel('Groups (comma-separated)').fill(groups);
  await page.screenshot({ path: join(shots, `${username.split('-')[0]}-sign-in.png`) });
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL((url) => url.origin === base && url.pathname.startsWith(path));
}

describe('a person in Chromium', () => {
  it('signs in to Argo, uses its API as themselves, is refused another team, and signs out', async () => {
    const context = await browser.newContext({ ignoreHTTPSErrors: true });
    const page = await context.newPage();
    const username = uniqueName('maria');
    await signIn(page, '/argo/', username, 'maintainers');
    expect(new URL(page.url()).pathname).toBe('/argo/');
    await expect.poll(() => page.textContent('body')).toContain('Built without static files');
    await page.screenshot({ path: join(shots, 'argo-landing.png') });
    const cookies = await context.cookies(base);
    expect(cookies.find((c) => c.name === '__Host-gh_session')).toMatchObject({
      httpOnly: true,
      secure: true,
      sameSite: 'Lax',
    });

    const api = await page.evaluate(async () => {
      const list = await fetch('/argo/api/v1/workflows/team-a');
      const submit = await fetch('/argo/api/v1/workflows/team-a', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          workflow: {
            metadata: { name: `browser-${Date.now()}` },
            spec: { entrypoint: 'a', templates: [{ name: 'a' }] },
          },
        }),
      });
      const other = await fetch('/argo/api/v1/workflows/team-b');
      return { list: list.status, submit: submit.status, other: other.status, otherBody: await other.json() };
    });
    expect(api).toMatchObject({ list: 200, submit: 200, other: 403, otherBody: { code: 'GATEHOUSE_FORBIDDEN' } });
    const submitted = argo
      .flatMap((a) => a.requests)
      .find((r) => r.method === 'POST' && r.path === '/api/v1/workflows/team-a');
    expect(submitted?.headers.authorization).toBe('Bearer sa-team-a-edit');
    expect(String(submitted?.headers.cookie ?? '')).not.toContain('__Host-gh_');

    await page.goto(`${base}/auth/logout`);
    await page.waitForURL(`${base}/auth/signed-out`);
    await expect.poll(() => page.textContent('h1')).toBe('You are signed out');
    await page.screenshot({ path: join(shots, 'signed-out.png') });
    expect(
      (await context.cookies(base)).filter(
        (c) => c.name.startsWith('__Host-gh_') && !c.name.startsWith('__Host-gh_tx_'),
      ),
    ).toEqual([]);
    await page.goto(`${base}/argo/`);
    await expect(page.getByRole('heading', { name: 'Sign in to the development issuer' }).isVisible()).resolves.toBe(
      true,
    );
    await context.close();
  });

  // Three sign-ins and three pages of a single-page app that loads some 80 assets each.
  it('opens the Temporal UI as an admin, and refuses it to a person without a grant', { timeout: 90_000 }, async () => {
    const admin = await browser.newContext({ ignoreHTTPSErrors: true });
    const page = await admin.newPage();
    await signIn(page, '/temporal/', uniqueName('ada'), 'gatehouse-admins');
    // A job started from this browser through Gatehouse's API (same cookie, same principal) is
    // then found in the Temporal UI: one identity from the browser to the workflow.
    const started = await page.evaluate(async () => {
      const answer = await fetch('/v1/jobs/policy-check', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          action: { type: 'Gatehouse::Action', id: 'read' },
          resource: { type: 'Gatehouse::Repository', id: 'acme/website' },
        }),
      });
      return { status: answer.status, body: (await answer.json()) as { jobId: string; runId: string } };
    });
    expect(started.status).toBe(202);
    // The admin finds that workflow in the list and opens it, as a person would. Temporal's list
    // is eventually consistent and the run's namespace holds every test's workflows: the page is
    // filtered to this job, as a person would search for it, and reloaded until Temporal lists it.
    const { jobId, runId } = started.body;
    const link = page.getByRole('link', { name: new RegExp(jobId.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')) }).first();
    const search = `${base}/temporal/namespaces/default/workflows?query=${encodeURIComponent(`WorkflowId="${jobId}"`)}`;
    await expect
      .poll(
        async () => {
          await page.goto(search);
          return link.waitFor({ state: 'visible', timeout: 5_000 }).then(
            () => true,
            () => false,
          );
        },
        { timeout: 45_000, interval: 1_000 },
      )
      .toBe(true);
    expect(await page.title()).toBe('Workflows | default');
    await page.screenshot({ path: join(shots, 'temporal-admin-workflows.png') });
    await link.click();
    await page.waitForURL((url) => url.pathname.includes(`/${runId}`), { timeout: 15_000 });
    await expect.poll(() => page.innerText('body'), { timeout: 15_000 }).toMatch(/completed/i);
    await page.screenshot({ path: join(shots, 'temporal-admin-workflow.png') });
    const listed = await page.evaluate(
      async () => (await fetch('/temporal/api/v1/namespaces/default/workflows')).status,
    );
    expect(listed).toBe(200);
    await admin.close();

    const other = await browser.newContext({ ignoreHTTPSErrors: true });
    const refused = await other.newPage();
    await signIn(refused, '/argo/', uniqueName('bob'), 'engineers');
    const answer = await refused.goto(`${base}/temporal/`);
    expect(answer?.status()).toBe(403);
    await refused.screenshot({ path: join(shots, 'temporal-refused.png') });
    await other.close();
  });
});
