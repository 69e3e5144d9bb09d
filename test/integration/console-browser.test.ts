// The console as people use it: Debian's Chromium through the real HAProxy edge and two bridges,
// against the real Temporal dev server and worker. A person signs in, starts a policy-check from
// its form (and is told what the API refused), watches it complete without reloading, runs it
// again and follows the link between the two, cancels a running job; an admin watches the CI job a
// signed push started (through the edge, its steps in the sandbox on a local Git repository) add
// its steps one by one until it passes; an admin replays a delivery,
// refused in safe mode and then forced, and reads the usage ledger; another person sees none of
// the first person's jobs and gets a 404 page for one of them. Every page is screenshotted at
// desktop and phone widths into .data/test-logs/console/ and checked by axe-core: no serious or
// critical violation. The Content-Security-Policy stays on throughout, and nothing breaks it.
import { mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { send, startEdgeHarness, type Bridge, type EdgeHarness } from '../helpers/edge.js';
import { ciFakes, ciOverlay } from '../helpers/ci-overlay.js';
import type { FakeGitHosts } from '../helpers/fake-git-hosts.js';
import type { GitServer } from '../helpers/git-server.js';
import { startWorkers, testFileRoute, testSecrets, uniqueName, type RunningWorkers } from '../helpers/gatehouse.js';
import { testLogDir } from '../helpers/log-files.js';
import { capture, launchChromium, signIn, type AxeViolation } from '../helpers/console-browser.js';
import { githubDelivery, githubPush } from '../helpers/webhooks.js';

let e: EdgeHarness<{ hosts: FakeGitHosts; git: GitServer }>;
let base: string;
let browser: Browser;
/** The CI worker's scratch directory, this file's own: each job's checkout is a `job-*` directory in it. */
const scratchDir = mkdtempSync(join(tmpdir(), 'gatehouse-scratch-'));
const queue = uniqueName('gatehouse-edge');
const holdQueue = uniqueName('gatehouse-hold');
const holdWorkers: RunningWorkers[] = [];
const shots = join(testLogDir, 'console');
/** Every serious or critical axe finding, by page: asserted empty at the end of each test. */
const violations: Array<{ page: string; found: AxeViolation[] }> = [];
/** What the browser reported about the Content-Security-Policy: nothing, if the pages keep to it. */
const cspReports: string[] = [];

beforeAll(async () => {
  mkdirSync(shots, { recursive: true });
  e = await startEdgeHarness(
    { EDGE_SUBJECT_RATE: '100' },
    {
      signIn: {},
      fakes: ciFakes({ 'README.md': 'console\n' }),
      taskQueue: queue,
      // A route on a queue no worker polls until the test starts one: its jobs stay running.
      worker: { taskQueues: [queue] },
      overlay: ({ fakes }) => ({
        taskQueues: [queue, holdQueue],
        routes: { 'hold-check': { ...testFileRoute('policy-check'), taskQueue: holdQueue } },
        // The middle step waits for a file the test puts in the job's checkout, so the page is
        // looked at while the job runs, however slow the machine, and no test step sleeps.
        ...ciOverlay(
          fakes,
          [
            {
              repositories: ['Codertocat/*'],
              runner: 'steps',
              steps: [
                { name: 'build', run: 'echo built', timeout: '1m' },
                { name: 'wait-for-release', run: 'until test -e release; do sleep 0.1; done', timeout: '2m' },
                { name: 'test', run: 'echo tested', timeout: '1m' },
              ],
            },
          ],
          { scratchDir, statusProviders: ['github'] },
        ),
      }),
    },
  );
  base = `https://${e.env.EDGE_HTTPS_BIND}`;
  browser = await launchChromium();
}, 120_000);
afterAll(async () => {
  await browser?.close();
  for (const workers of holdWorkers) await workers.stop();
  await e?.close();
});

async function person(username: string, groups: string): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  page.on('console', (message) => {
    if (/Content Security Policy/i.test(message.text())) cspReports.push(message.text());
  });
  await signIn(page, base, '/ui/jobs', username, groups);
  return { context, page };
}

async function look(page: Page, name: string) {
  violations.push({ page: name, found: await capture(page, shots, name) });
}

/** No serious or critical axe finding and no CSP report since the last check (then starts afresh). */
function expectAccessible() {
  const found = violations.splice(0).filter((v) => v.found.length > 0);
  const reports = cspReports.splice(0);
  expect(found).toEqual([]);
  expect(reports).toEqual([]);
}

/** Waits until the job page's status badge says `status` (updated live, without a reload). */
async function statusIs(page: Page, status: string) {
  await expect.poll(() => page.locator('.job-status [data-status]').textContent(), { timeout: 30_000 }).toBe(status);
}

const jobIdOf = (page: Page) => decodeURIComponent(new URL(page.url()).pathname.split('/').at(-1)!);

async function fillPolicyCheck(page: Page, resourceId: string, actionType = 'Gatehouse::Action') {
  await page
    .getByRole('group', { name: /^action/ })
    .getByLabel('type')
    .fill(actionType);
  await page
    .getByRole('group', { name: /^action/ })
    .getByLabel('id')
    .fill('read');
  await page
    .getByRole('group', { name: /^resource/ })
    .getByLabel('type')
    .fill('Gatehouse::Repository');
  await page
    .getByRole('group', { name: /^resource/ })
    .getByLabel('id')
    .fill(resourceId);
}

describe('the console in Chromium', () => {
  let mariaJob = '';
  let mariaRerun = '';

  it(
    'starts a policy-check from its form, watches it complete live, runs it again and follows the links',
    { timeout: 120_000 },
    async () => {
      const { context, page } = await person(uniqueName('maria'), 'maintainers');
      expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Your jobs');
      const answer = await page.request.get(`${base}/ui/jobs`);
      expect(answer.headers()['content-security-policy']).toContain("default-src 'none'");
      expect(answer.headers()['content-security-policy']).toContain("frame-ancestors 'none'");
      await look(page, 'jobs-empty');

      await page.getByRole('link', { name: 'Start a job' }).click();
      await look(page, 'start');
      await page.getByRole('link', { name: 'policy-check' }).click();
      await look(page, 'start-policy-check');

      // A type Cedar's names cannot have: the API's own validation error, beside the field.
      await fillPolicyCheck(page, 'acme/website', 'not a type!');
      await page.getByRole('button', { name: 'Start' }).click();
      expect(await page.getByRole('alert').textContent()).toContain('The request does not match the schema');
      const typeField = page.getByRole('group', { name: /^action/ }).getByLabel('type');
      expect(await typeField.getAttribute('aria-invalid')).toBe('true');
      expect(await typeField.inputValue()).toBe('not a type!');
      await look(page, 'start-refused');

      await fillPolicyCheck(page, 'acme/website');
      // The page is not reloaded from here on: a mark on the window survives only without a navigation.
      await page.getByRole('button', { name: 'Start' }).click();
      await page.waitForURL(/\/ui\/jobs\/policy-check\./);
      mariaJob = jobIdOf(page);
      await page.evaluate(() => ((globalThis as unknown as { mark: number }).mark = 1));
      await statusIs(page, 'COMPLETED');
      await page.getByRole('heading', { name: 'Result' }).waitFor({ timeout: 10_000 });
      expect(await page.locator('pre').textContent()).toContain('"decision": "allow"');
      expect(await page.evaluate(() => (globalThis as unknown as { mark?: number }).mark)).toBe(1);
      await page.getByText('Asked by').waitFor();
      await look(page, 'job-completed');

      await page.getByRole('button', { name: 'Run again' }).click();
      await page.waitForURL((url) => url.pathname.startsWith('/ui/jobs/') && !url.pathname.endsWith(mariaJob));
      mariaRerun = jobIdOf(page);
      await statusIs(page, 'COMPLETED');
      await page.getByRole('link', { name: mariaJob }).click();
      await page.waitForURL(`${base}/ui/jobs/${mariaJob}`);
      await page.getByRole('link', { name: mariaRerun }).waitFor();

      await page.goto(`${base}/ui/jobs`);
      await page.getByRole('link', { name: mariaJob }).waitFor();
      await page.getByRole('link', { name: mariaRerun }).waitFor();
      await look(page, 'jobs');
      await page.goto(`${base}/ui/jobs?route=policy-check&status=COMPLETED`);
      await page.getByRole('link', { name: mariaJob }).waitFor();
      await look(page, 'jobs-filtered');
      await context.close();
      expectAccessible();
    },
  );

  it('cancels a running job, and the page follows it to CANCELED', { timeout: 120_000 }, async () => {
    const { context, page } = await person(uniqueName('carl'), 'maintainers');
    await page.goto(`${base}/ui/start/hold-check`);
    await fillPolicyCheck(page, 'acme/api');
    await page.getByRole('button', { name: 'Start' }).click();
    await page.waitForURL(/\/ui\/jobs\/hold-check\./);
    await statusIs(page, 'RUNNING');
    await look(page, 'job-running');
    // With the same cookie, a cancel another site makes, or one without this session's CSRF token, is refused.
    const jobUrl = `${base}/ui/jobs/${jobIdOf(page)}/cancel`;
    const crossSite = await page.request.post(jobUrl, { form: {}, headers: { 'sec-fetch-site': 'cross-site' } });
    expect(crossSite.status()).toBe(403);
    expect(await crossSite.text()).toContain('GATEHOUSE_CROSS_SITE_REQUEST');
    const forged = await page.request.post(jobUrl, {
      form: { csrf: 'A'.repeat(43) },
      headers: { 'sec-fetch-site': 'same-origin', origin: base },
    });
    expect(forged.status()).toBe(403);
    expect(await forged.text()).toContain('did not come from this site');
    await page.reload();
    await statusIs(page, 'RUNNING');
    await page.getByRole('button', { name: 'Cancel' }).click();
    await page.getByRole('status').filter({ hasText: 'Cancellation requested' }).waitFor();
    // A worker for the queue now lets the workflow see the cancellation; the open page follows it.
    holdWorkers.push(await startWorkers(e.config, { taskQueues: [holdQueue] }));
    await statusIs(page, 'CANCELED');
    await page.getByRole('button', { name: 'Cancel' }).waitFor({ state: 'detached', timeout: 10_000 });
    await look(page, 'job-canceled');
    await context.close();
    expectAccessible();
  });

  it(
    'shows an admin the CI job a signed push started, its steps appearing one by one until it passes',
    { timeout: 120_000 },
    async () => {
      // A push's job is owned by its sender (webhook:github:<account id>), and no sign-in maps a
      // person to a Git account: besides that owner only admins may see it (src/core/access.ts).
      const { context, page } = await person(uniqueName('olga'), 'gatehouse-admins');
      const push = githubPush(e.fakes.git.sha, `${e.fakes.git.url}/github/Codertocat/Hello-World.git`);
      const delivery = githubDelivery(push, {
        secret: testSecrets.TEST_GITHUB_SECRET,
        event: 'push',
        path: '/v1/webhooks/github/ci',
      });
      const answer = await send(e.base, {
        method: 'POST',
        path: delivery.url,
        headers: delivery.headers,
        body: delivery.body,
      });
      expect(answer.status, answer.body).toBe(202);
      const jobId = answer.json<{ jobId: string }>().jobId;

      await page.goto(`${base}/ui/jobs/${encodeURIComponent(jobId)}`);
      // The page is not reloaded from here on: a mark on the window survives only without a navigation.
      await page.evaluate(() => ((globalThis as unknown as { mark: number }).mark = 1));
      const progress = page.getByRole('region', { name: 'Progress' });
      await progress.getByText('Step 2, wait-for-release: started').waitFor({ timeout: 60_000 });
      await progress.getByText(/^Step 1, build: passed/).waitFor();
      await statusIs(page, 'RUNNING');
      expect(await progress.getByText(/^Step 3/).count()).toBe(0);
      await page.getByText('github sender Codertocat').waitFor();
      await look(page, 'job-ci-running');

      // The step goes on once its checkout has the file; this file's scratch directory holds only this job's.
      const checkouts = readdirSync(scratchDir).filter((name) => name.startsWith('job-'));
      expect(checkouts).toHaveLength(1);
      writeFileSync(join(scratchDir, checkouts[0]!, 'release'), '');
      await progress.getByText(/^Step 3, test: started/).waitFor({ timeout: 30_000 });
      await statusIs(page, 'COMPLETED');
      await progress.getByText(/^Step 2, wait-for-release: passed/).waitFor({ timeout: 10_000 });
      await progress.getByText(/^Step 3, test: passed/).waitFor({ timeout: 10_000 });
      await progress.getByText(/^Phase: passed/).waitFor({ timeout: 10_000 });
      await page.getByRole('heading', { name: 'Result' }).waitFor({ timeout: 10_000 });
      expect(await page.evaluate(() => (globalThis as unknown as { mark?: number }).mark)).toBe(1);
      await look(page, 'job-ci-passed');
      // The commit's status went from pending to success, linking the job.
      expect(e.fakes.hosts.statuses.filter((s) => s.url.endsWith(jobId)).map((s) => s.state)).toEqual([
        'pending',
        'success',
      ]);
      await context.close();
      expectAccessible();
    },
  );

  it(
    'lets an admin replay a delivery, refused in safe mode and then forced, and read usage',
    { timeout: 120_000 },
    async () => {
      const username = uniqueName('ada');
      const { context, page } = await person(username, 'gatehouse-admins');
      // Each bridge keeps its own delivery log here (memory): deliver to the one the edge sends this admin to.
      const bridge = e.bridges.find((b: Bridge) => b.seen.some((h) => h['x-auth-subject'] === username))!;
      // A commit of its own, so no job of another test has run for it; on the test's Git server like every hook's.
      const payload = githubPush(
        randomBytes(20).toString('hex'),
        `${e.fakes.git.url}/github/Codertocat/Hello-World.git`,
      );
      const delivery = githubDelivery(payload, { secret: testSecrets.TEST_GITHUB_SECRET, event: 'push' });
      const delivered = await bridge.app.inject({
        method: 'POST',
        url: delivery.url,
        payload: delivery.body,
        headers: delivery.headers,
      });
      expect(delivered.statusCode, delivered.body).toBe(202);

      await page.getByRole('link', { name: 'Deliveries' }).click();
      await page.getByRole('region', { name: 'Hooks' }).getByText('github / default').waitFor();
      await look(page, 'deliveries');
      await page.locator('table a[href^="/ui/deliveries/"]').first().click();
      await page.getByRole('heading', { name: 'The event it carried' }).waitFor();
      await look(page, 'delivery');
      await page.getByRole('button', { name: 'Replay' }).click();
      expect(await page.getByRole('alert').textContent()).toContain('GATEHOUSE_REPLAY_UNSAFE');
      await look(page, 'delivery-replay-refused');
      await page.getByRole('switch', { name: /Force/ }).check();
      await page.getByRole('button', { name: 'Replay' }).click();
      await page.waitForURL(/\/ui\/jobs\/github\./);
      await page.getByText('Replay of').waitFor();
      await look(page, 'job-replayed');

      await page.getByRole('link', { name: 'Usage' }).click();
      await page.getByLabel('Owner').fill('*');
      await page.getByRole('button', { name: 'Show usage' }).click();
      await page.waitForURL(/\/ui\/usage\?job=/);
      await page
        .getByRole('region', { name: 'Usage totals' })
        .or(page.getByText('Nothing recorded'))
        .waitFor({ timeout: 30_000 });
      await look(page, 'usage');
      await context.close();
      expectAccessible();
    },
  );

  it("shows another person none of the first person's jobs, and a 404 page for one", { timeout: 120_000 }, async () => {
    expect(mariaJob).not.toBe('');
    const { context, page } = await person(uniqueName('bob'), 'engineers');
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Your jobs');
    expect(await page.getByRole('link', { name: mariaJob }).count()).toBe(0);
    expect(await page.getByRole('link', { name: mariaRerun }).count()).toBe(0);
    const answer = await page.goto(`${base}/ui/jobs/${mariaJob}`);
    expect(answer?.status()).toBe(404);
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('No such job');
    await look(page, 'job-not-found');
    const deliveries = await page.goto(`${base}/ui/deliveries`);
    expect(deliveries?.status()).toBe(403);
    expect(await page.getByRole('link', { name: 'Deliveries' }).count()).toBe(0);
    await look(page, 'deliveries-forbidden');
    await context.close();
    expectAccessible();
  });
});
