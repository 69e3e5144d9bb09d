// A person with nothing but a browser: Debian's Chromium, driven by playwright-core (no browser
// download), through the real HAProxy. An admin opens the Temporal UI (the dev server's own)
// without a session, signs in at the development issuer's page, comes back to it, starts a job
// through Gatehouse's API from the same browser session and finds it in the UI. A person without
// a grant is shown the edge's refusal page, signs out from it and is sent to sign in again. The
// same in a real Argo is test/argo/people.test.ts. Screenshots of each page go to the test's log
// folder.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { launchChromium } from '../helpers/chromium.js';
import { startEdgeHarness, type EdgeHarness } from '../helpers/edge.js';
import { uniqueName } from '../helpers/gatehouse.js';
import { testLogDir } from '../helpers/log-files.js';

let e: EdgeHarness;
let base: string;
let browser: Browser;
const shots = join(testLogDir, 'sign-in-browser');

beforeAll(async () => {
  mkdirSync(shots, { recursive: true });
  e = await startEdgeHarness(
    {
      EDGE_TEMPORAL_UI: inject('temporalUiAddress'),
      // The production default (the harness raises it for its API tests): a person's pages, which
      // load many assets each, must not run into the API's per-subject rate.
      EDGE_SUBJECT_RATE: '100',
    },
    {
      signIn: {},
      // The default policies: maintainers edit in every Argo namespace (config/policies).
      overlay: { signIn: { argo: { namespaces: ['team-a'] } } },
    },
  );
  base = `https://${e.env.EDGE_HTTPS_BIND}`;
  browser = await launchChromium();
}, 120_000);
afterAll(async () => {
  await browser?.close();
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
  // Three sign-ins and three pages of a single-page app that loads some 80 assets each.
  it(
    'opens the Temporal UI as an admin; a person without a grant gets the refusal page and signs out from it',
    { timeout: 150_000 },
    async () => {
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
      // is eventually consistent and the run's namespace holds every test's workflows: first wait,
      // through the UI's own API and the same session, until Temporal lists the job; then the page
      // filtered to it, as a person would search, which may take a while to render on a busy machine.
      const { jobId, runId } = started.body;
      const query = encodeURIComponent(`WorkflowId="${jobId}"`);
      await expect
        .poll(
          () =>
            page.evaluate(async (url) => {
              const answer = await fetch(url);
              const body = (await answer.json()) as { executions?: unknown[] };
              return answer.status === 200 ? (body.executions?.length ?? 0) : -answer.status;
            }, `/temporal/api/v1/namespaces/default/workflows?query=${query}`),
          { timeout: 45_000, interval: 500 },
        )
        .toBe(1);
      const link = page.getByRole('link', { name: new RegExp(jobId.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')) }).first();
      await page.goto(`${base}/temporal/namespaces/default/workflows?query=${query}`);
      await link.waitFor({ state: 'visible', timeout: 30_000 });
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
      // No Argo grant either: the sign-in comes back to /argo/ and the edge's refusal page.
      await signIn(refused, '/argo/', uniqueName('bob'), 'engineers');
      await expect(refused.getByRole('heading', { name: 'Not allowed' }).isVisible()).resolves.toBe(true);
      const answer = await refused.goto(`${base}/temporal/`);
      expect(answer?.status()).toBe(403);
      expect(answer?.headers()['content-type']).toBe('text/html; charset=utf-8');
      await expect(refused.getByRole('heading', { name: 'Not allowed' }).isVisible()).resolves.toBe(true);
      await expect
        .poll(() => refused.textContent('main'))
        .toMatch(/grants you no Temporal namespace[\s\S]*signed in as bob-/);
      await refused.screenshot({ path: join(shots, 'temporal-refused.png') });
      await refused.getByRole('link', { name: 'Sign out' }).click();
      await refused.waitForURL(`${base}/auth/signed-out`);
      await expect.poll(() => refused.textContent('h1')).toBe('You are signed out');
      await refused.screenshot({ path: join(shots, 'signed-out.png') });
      expect(
        (await other.cookies(base)).filter(
          (c) => c.name.startsWith('__Host-gh_') && !c.name.startsWith('__Host-gh_tx_'),
        ),
      ).toEqual([]);
      await refused.goto(`${base}/temporal/`);
      await expect(
        refused.getByRole('heading', { name: 'Sign in to the development issuer' }).isVisible(),
      ).resolves.toBe(true);
      await other.close();
    },
  );
});
