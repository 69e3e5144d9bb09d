// The reconciler against a real Temporal, a real worker and a real PostgreSQL delivery log, with
// local GitHub and GitLab servers that serve the providers' documented REST shapes (GitHub's are
// checked against its published OpenAPI description on every answer):
// - the bridge is down while a batch of deliveries is sent; GitHub records them as failed; once
//   the bridge is back, one check asks for each again and each starts exactly one job;
// - a delivery GitHub reports as delivered that the log never saw is asked for again;
// - rate limits are waited out, not failed;
// - a GitLab hook disabled after failures is reported, and its failed events are resent once it
//   takes them again;
// - a provider that lists a delivery id of 9007199254740986 (above the deliveries sent after it)
//   gets it refused, and the failures sent after it are still asked for, check after check.
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client, Connection } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import type { ReconcileReport } from '../../activities/reconcile.js';
import { buildApp } from '../../src/bridge/app.js';
import type { GatehouseConfig } from '../../src/config/load-config.js';
import type { DeliveryRecord } from '../../src/core/deliveries.js';
import { startPostgres, type Postgres } from '../../src/dev/postgres.js';
import { freePort } from '../../src/dev/temporal-dev-server.js';
import { startFakeGitHub, type FakeGitHub, type GitHubHookRef } from '../helpers/fake-github.js';
import { startFakeGitLabHooks, type FakeGitLabHooks, type GitLabHookRef } from '../helpers/fake-gitlab-hooks.js';
import {
  loadTestConfig,
  startWorkers,
  testLogger,
  testSecrets,
  uniqueName,
  useGatehouse,
  type RunningWorkers,
} from '../helpers/gatehouse.js';
import { fixture, githubExample } from '../helpers/webhooks.js';

const apiTokens = { TEST_RECONCILE_TOKEN: 'github-hooks-token', TEST_GITLAB_API_TOKEN: 'gitlab-api-token' };
const githubHook: GitHubHookRef = { kind: 'repository', owner: 'acme', repo: 'app', hookId: 77 };
const gitlabHook: GitLabHookRef = { projectId: 5, hookId: 9 };

let postgres: Postgres;
/** The issuer: the bridge of this file stops and starts again, on an address its fakes know first. */
const g = useGatehouse({ worker: false, bridge: false });
let github: FakeGitHub;
let gitlab: FakeGitLabHooks;
let config: GatehouseConfig;
let app: FastifyInstance;
let workers: RunningWorkers;
let client: Client;
let connection: Connection;
let bridgeUrl: string;
/** Answers 200 to anything: something other than Gatehouse answering at its address. */
let impostor: Server;
let impostorUrl: string;
let closedUrl: string;
/** In front of the bridge for GitLab, whose resends go to the URL an event was first sent to. */
let gate: Server;
let gateUrl: string;
let gateOpen = false;

beforeAll(async () => {
  postgres = await startPostgres();
  const port = await freePort();
  bridgeUrl = `http://127.0.0.1:${port}`;
  closedUrl = `http://127.0.0.1:${await freePort()}`;
  impostor = createServer((request, response) => {
    request.resume();
    request.on('end', () => response.writeHead(200).end('ok'));
  });
  await new Promise<void>((resolve) => impostor.listen(0, '127.0.0.1', resolve));
  impostorUrl = `http://127.0.0.1:${(impostor.address() as AddressInfo).port}`;
  gate = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      if (!gateOpen) return void response.writeHead(503).end('down');
      const headers = Object.fromEntries(
        Object.entries(request.headers).filter(([name]) => !['host', 'connection', 'content-length'].includes(name)),
      ) as Record<string, string>;
      fetch(`${bridgeUrl}${request.url}`, { method: 'POST', headers, body: Buffer.concat(chunks) })
        .then(async (answer) => response.writeHead(answer.status).end(await answer.text()))
        .catch(() => response.writeHead(502).end());
    });
  });
  await new Promise<void>((resolve) => gate.listen(0, '127.0.0.1', resolve));
  gateUrl = `http://127.0.0.1:${(gate.address() as AddressInfo).port}`;
  github = await startFakeGitHub({
    token: apiTokens.TEST_RECONCILE_TOKEN,
    hooks: [{ ...githubHook, url: `${bridgeUrl}/v1/webhooks/github`, secret: testSecrets.TEST_GITHUB_SECRET }],
  });
  gitlab = await startFakeGitLabHooks({
    privateToken: apiTokens.TEST_GITLAB_API_TOKEN,
    hooks: [
      {
        ...gitlabHook,
        projectPath: 'acme/app',
        url: `${gateUrl}/v1/webhooks/gitlab`,
        token: testSecrets.TEST_GITLAB_TOKEN,
      },
    ],
    // GitLab allows 5 resends a minute; the refused ones count too, and these tests make 10.
    resendLimit: { max: 12, windowMs: 60_000 },
  });

  const queue = uniqueName('reconcile');
  config = loadTestConfig({
    issuer: g.issuer,
    taskQueue: queue,
    overlay: {
      webhooks: {
        github: {
          default: {
            reconcile: {
              repository: 'acme/app',
              hookId: githubHook.hookId,
              token: { env: 'TEST_RECONCILE_TOKEN' },
              apiUrl: github.url,
              every: '1h',
              lookback: '1h',
              maxAttempts: 3,
            },
          },
        },
        gitlab: {
          default: {
            reconcile: {
              project: 'acme/app',
              hookId: gitlabHook.hookId,
              token: { env: 'TEST_GITLAB_API_TOKEN' },
              apiUrl: `${gitlab.url}/api/v4`,
              every: '1h',
              lookback: '7d',
              resend: true,
              maxAttempts: 3,
            },
          },
        },
        reconciler: { taskQueue: queue, scheduleIdPrefix: uniqueName('reconcile'), requestTimeout: '30s' },
        deliveryLog: { url: { env: 'TEST_DELIVERY_LOG_URL' } },
      },
    },
    env: { TEST_DELIVERY_LOG_URL: postgres.url, ...apiTokens },
  });

  workers = await startWorkers(config, { env: apiTokens });
  app = await buildApp(config, { logger: testLogger() });
  connection = await Connection.connect({ address: inject('temporalAddress') });
  client = new Client({ connection, namespace: config.temporal.namespace });
  // Each check runs when a test triggers it: the schedules' own ticks (on the hour) would run one
  // between a test's steps and redeliver what a test expects to stay missing.
  for (const provider of ['github', 'gitlab'])
    await client.schedule.getHandle(scheduleId(provider)).pause('the tests trigger each check');
}, 60_000);

afterAll(async () => {
  await workers?.stop();
  await app?.close();
  await connection?.close();
  await github?.close();
  await gitlab?.close();
  await new Promise((resolve) => impostor?.close(resolve));
  await new Promise((resolve) => gate?.close(resolve));
  await postgres?.stop();
});

const scheduleId = (provider: string) => `${config.webhooks.reconciler.scheduleIdPrefix}-${provider}-default`;

/** Runs one check now, through the hook's schedule, and returns its report. */
async function check(provider: 'github' | 'gitlab'): Promise<ReconcileReport> {
  const handle = client.schedule.getHandle(scheduleId(provider));
  const before = (await handle.describe()).info.recentActions.length;
  await handle.trigger();
  const started = await vi.waitFor(
    async () => {
      const actions = (await handle.describe()).info.recentActions;
      expect(actions.length).toBeGreaterThan(before);
      return actions.at(-1)!.action.workflow;
    },
    { timeout: 15_000, interval: 200 },
  );
  return client.workflow.getHandle(started.workflowId, started.firstExecutionRunId).result();
}

const pushPayload = () => ({
  ...githubExample('push', (e) => e.ref === 'refs/heads/master'),
  ref: 'refs/heads/main',
  after: randomBytes(20).toString('hex'),
});

async function jobsOf(deliveryId: string): Promise<number> {
  return (await client.workflow.count(`GatehouseDelivery = "${deliveryId}" AND GatehouseSource = "github"`)).count;
}

async function log(query: string): Promise<DeliveryRecord[]> {
  await app.deliveries.recorder.flush();
  return app.deliveries.log.list({ ...parse(query), limit: 500 });
}
const parse = (query: string) => Object.fromEntries(new URLSearchParams(query)) as Record<string, string>;

describe('the GitHub reconciler', () => {
  it('keeps its schedule in step with the config', async () => {
    const described = await client.schedule.getHandle(scheduleId('github')).describe();
    expect(described.action).toMatchObject({
      workflowType: 'reconcileHook',
      taskQueue: config.webhooks.reconciler.taskQueue,
    });
    expect((described.spec.intervals ?? []).map((interval) => interval.every)).toEqual([3_600_000]);
  });

  it('brings in every delivery sent while the bridge was down; each starts exactly one job', async () => {
    const batch = 8;
    const failed: Array<{ guid: string; status_code: number }> = [];
    for (let i = 0; i < batch; i += 1) failed.push(await github.send(githubHook, 'push', pushPayload()));
    expect(failed.map((d) => d.status_code)).toEqual(Array(batch).fill(502));

    // The bridge comes back; two more deliveries arrive normally.
    await app.listen({ host: '127.0.0.1', port: Number(new URL(bridgeUrl).port) });
    const delivered = [
      await github.send(githubHook, 'push', pushPayload()),
      await github.send(githubHook, 'push', pushPayload()),
    ];
    expect(delivered.map((d) => d.status_code)).toEqual([202, 202]);

    const recoveryStarted = Date.now();
    const report = await check('github');
    expect(report).toMatchObject({
      examined: batch + 2,
      failed: batch,
      unseen: 0,
      requested: batch,
      refused: 0,
      abandoned: 0,
    });
    await github.settled();
    await vi.waitFor(
      async () => {
        for (const delivery of [...failed, ...delivered]) expect(await jobsOf(delivery.guid)).toBe(1);
      },
      { timeout: 30_000, interval: 250 },
    );
    const recoveryMs = Date.now() - recoveryStarted;

    const guids = failed.map((d) => d.guid);
    const records = (await log('provider=github&hook=default')).filter((r) => guids.includes(r.deliveryId ?? ''));
    const byOutcome = (outcome: string) => records.filter((r) => r.outcome === outcome).length;
    expect(byOutcome('accepted')).toBe(batch);
    expect(byOutcome('redelivery_requested')).toBe(batch);
    expect(byOutcome('duplicate')).toBe(0);
    expect(github.redeliveryRequests).toHaveLength(batch);
    expect(github.schemaViolations).toEqual([]);
    console.log(
      `reconciler: sent ${batch + 2}, failed at the provider ${batch}, recovered ${byOutcome('accepted')}, duplicates ${byOutcome('duplicate')}, recovery ${recoveryMs} ms`,
    );

    // The next check reads back to the events it asked for (so past the two delivered since),
    // finds their redeliveries succeeded, and asks for nothing.
    const again = await check('github');
    expect(again).toMatchObject({ examined: 2 * batch + 2, failed: 0, requested: 0 });
    for (const delivery of failed) expect(await jobsOf(delivery.guid)).toBe(1);
    const saved = await client.schedule.getHandle(scheduleId('github')).describe();
    const input = (saved.action as { args: Array<{ state?: { after: number } }> }).args[0]!;
    expect(input.state?.after).toBe(Math.max(...github.deliveries(githubHook).map((d) => d.id)));
  });

  it('asks again for a delivery GitHub reports delivered that the log never saw', async () => {
    github.setHookUrl(githubHook, impostorUrl);
    const elsewhere = await github.send(githubHook, 'push', pushPayload());
    expect(elsewhere.status_code).toBe(200);
    github.setHookUrl(githubHook, `${bridgeUrl}/v1/webhooks/github`);
    const report = await check('github');
    expect(report).toMatchObject({ examined: 1, unseen: 1, requested: 1 });
    await github.settled();
    await vi.waitFor(async () => expect(await jobsOf(elsewhere.guid)).toBe(1), { timeout: 20_000, interval: 250 });
  });

  it(
    'waits out the rate limit instead of failing, and still asks for every failed delivery',
    { timeout: 60_000 },
    async () => {
      github.setHookUrl(githubHook, closedUrl);
      const failed: Array<{ guid: string }> = [];
      for (let i = 0; i < 3; i += 1) failed.push(await github.send(githubHook, 'push', pushPayload()));
      github.setHookUrl(githubHook, `${bridgeUrl}/v1/webhooks/github`);
      // The list uses the window's last request: the reconciler waits for the reset before the next
      // call. Then a secondary limit refuses one call with retry-after: it waits that out and goes on.
      const refusedBefore = github.rateLimited;
      github.limitRate({ remaining: 1, resetInSeconds: 2 });
      const callsBefore = github.calls.length;
      const limited = await check('github');
      expect(limited.requested).toBe(3);
      expect(limited.rateLimitWaits).toBeGreaterThanOrEqual(1);
      const calls = github.calls.slice(callsBefore);
      expect(calls).toHaveLength(4);
      expect(calls[1]!.at - calls[0]!.at).toBeGreaterThanOrEqual(900);
      expect(github.rateLimited).toBe(refusedBefore);
      await github.settled();

      github.setHookUrl(githubHook, closedUrl);
      const more = await github.send(githubHook, 'push', pushPayload());
      failed.push(more);
      github.setHookUrl(githubHook, `${bridgeUrl}/v1/webhooks/github`);
      github.secondaryLimitNext(1);
      const refusedAt = github.calls.length;
      const secondary = await check('github');
      expect(secondary).toMatchObject({ requested: 1 });
      expect(github.rateLimited).toBe(refusedBefore + 1);
      const after = github.calls.slice(refusedAt);
      expect(after[1]!.at - after[0]!.at).toBeGreaterThanOrEqual(900);
      await github.settled();
      await vi.waitFor(
        async () => {
          for (const delivery of failed) expect(await jobsOf(delivery.guid)).toBe(1);
        },
        { timeout: 20_000, interval: 250 },
      );
    },
  );
  it('reports a check that ran out of pages before reading back far enough', async () => {
    github.setHookUrl(githubHook, closedUrl);
    const failed: Array<{ guid: string }> = [];
    for (let i = 0; i < 5; i += 1) failed.push(await github.send(githubHook, 'push', pushPayload()));
    github.setHookUrl(githubHook, `${bridgeUrl}/v1/webhooks/github`);
    // Two pages of two: the check reads the newest 4 of the 5, asks for them, and says it stopped.
    const described = await client.schedule.getHandle(scheduleId('github')).describe();
    const input = (described.action as { args: ReadonlyArray<Record<string, unknown>> }).args[0];
    const report = (await client.workflow.execute('reconcileHook', {
      taskQueue: config.webhooks.reconciler.taskQueue,
      workflowId: uniqueName('reconcile-pages'),
      args: [{ ...input, perPage: 2, maxPages: 2 }],
    })) as ReconcileReport;
    expect(report).toMatchObject({ examined: 4, requested: 4, truncated: true });
    await github.settled();
    await vi.waitFor(
      async () => {
        for (const delivery of failed.slice(1)) expect(await jobsOf(delivery.guid)).toBe(1);
      },
      { timeout: 20_000, interval: 250 },
    );
    expect(await jobsOf(failed[0]!.guid)).toBe(0);
  });

  it('refuses an implausible delivery id and still asks for the failures sent after it, check after check', async () => {
    const savedAfter = async () => {
      const described = await client.schedule.getHandle(scheduleId('github')).describe();
      return (described.action as { args: Array<{ state?: { after: number } }> }).args[0]!.state?.after;
    };
    const failOne = async () => {
      github.setHookUrl(githubHook, closedUrl);
      const sent = await github.send(githubHook, 'push', pushPayload());
      github.setHookUrl(githubHook, `${bridgeUrl}/v1/webhooks/github`);
      return sent;
    };
    // One delivery the provider lists with an id near 2^53 (dated before the ones listed below it),
    // then the provider's real ids again.
    const realNext = Math.max(...github.deliveries(githubHook).map((d) => d.id)) + 1;
    github.setNextDeliveryId(9_007_199_254_740_986, 10 * 60_000);
    expect((await github.send(githubHook, 'push', pushPayload())).status_code).toBe(202);
    github.setNextDeliveryId(realNext);

    await app.deliveries.recorder.flush();
    // A check with nothing left open: before, `after` jumped to 9007199254740986 here, and no later
    // delivery was ever examined again.
    const quiet = await check('github');
    expect(await savedAfter()).toBeLessThan(realNext + 10);
    const first = await failOne();
    const report = await check('github');
    expect(report.requested).toBe(1);
    await github.settled();
    const settled = await check('github');
    const second = await failOne();
    const next = await check('github');
    expect(next.requested).toBe(1);
    expect([quiet, report, settled, next].map((r) => r.refusedIds)).toEqual([1, 1, 1, 1]);
    await github.settled();
    await vi.waitFor(
      async () => {
        for (const delivery of [first, second]) expect(await jobsOf(delivery.guid)).toBe(1);
      },
      { timeout: 20_000, interval: 250 },
    );
  });
});

describe('the GitLab watcher', () => {
  const gitlabPush = () => {
    const payload = fixture('gitlab-push');
    const after = randomBytes(20).toString('hex');
    return { ...payload, after, checkout_sha: after };
  };

  it(
    'reports a hook GitLab disabled, and resends its failed events once it takes them again',
    { timeout: 60_000 },
    async () => {
      if (app.server.listening === false)
        await app.listen({ host: '127.0.0.1', port: Number(new URL(bridgeUrl).port) });
      gateOpen = false;
      const sent = [];
      for (let i = 0; i < 4; i += 1) sent.push(await gitlab.send(gitlabHook, 'Push Hook', gitlabPush()));
      expect(sent.every((result) => !result.dropped)).toBe(true);
      // Four failures in a row: GitLab disables the hook for a while.
      expect(gitlab.hook(gitlabHook).alert_status).toBe('temporarily_disabled');
      gitlab.setAlertStatus(gitlabHook, 'temporarily_disabled', new Date(Date.now() + 3_600_000));
      gateOpen = true;

      // While it is disabled GitLab refuses resends: reported, and asked again at the next check.
      const first = await check('gitlab');
      expect(first).toMatchObject({ alertStatus: 'temporarily_disabled', failed: 4, requested: 0, refused: 4 });
      // Admins read the same from the bridge (the console's Deliveries page shows it): the last
      // check of each hook, its report and the events still open; others are refused.
      const admin = await g.caller({ groups: ['gatehouse-admins'] });
      const health = await app.inject({ url: '/v1/webhooks/hooks', headers: admin.headers });
      expect(health.statusCode).toBe(200);
      const hooks = health.json<{ hooks: Array<Record<string, unknown>> }>().hooks;
      expect(hooks.find((h) => h.provider === 'gitlab' && h.hook === 'default')).toMatchObject({
        path: '/v1/webhooks/gitlab',
        reconciled: true,
        scheduleId: scheduleId('gitlab'),
        paused: true,
        openEvents: 4,
        lastCheck: {
          status: 'COMPLETED',
          report: { alertStatus: 'temporarily_disabled', failed: 4, requested: 0, refused: 4 },
        },
      });
      expect(hooks.find((h) => h.provider === 'gitea')).toEqual({
        provider: 'gitea',
        hook: 'default',
        path: '/v1/webhooks/gitea',
        reconciled: false,
      });
      const someone = await g.caller();
      const refused = await app.inject({ url: '/v1/webhooks/hooks', headers: someone.headers });
      expect(refused.statusCode).toBe(403);

      gitlab.setAlertStatus(gitlabHook, 'executable');
      const second = await check('gitlab');
      expect(second).toMatchObject({ alertStatus: 'executable', requested: 4, refused: 0 });
      await vi.waitFor(
        async () => {
          const accepted = (await log('provider=gitlab&hook=default&outcome=accepted')).length;
          expect(accepted).toBe(4);
        },
        { timeout: 20_000, interval: 250 },
      );
      const third = await check('gitlab');
      expect(third).toMatchObject({ alertStatus: 'executable', requested: 0 });
    },
  );

  it('refuses an implausible event id and still resends the failures sent after it, check after check', async () => {
    const failOne = async () => {
      gateOpen = false;
      const sent = await gitlab.send(gitlabHook, 'Push Hook', gitlabPush());
      gateOpen = true;
      return sent;
    };
    gateOpen = true;
    const realNext = Math.max(...gitlab.events(gitlabHook).map((e) => e.id)) + 1;
    gitlab.setNextEventId(9_007_199_254_740_986, 10 * 60_000);
    await gitlab.send(gitlabHook, 'Push Hook', gitlabPush());
    gitlab.setNextEventId(realNext);

    // A check with nothing left open: before, `after` jumped to 9007199254740986 here.
    const quiet = await check('gitlab');
    await failOne();
    const report = await check('gitlab');
    expect(report.requested).toBe(1);
    // GitLab answers a resend once it is delivered: the newest event is the resend, and it arrived.
    expect(gitlab.events(gitlabHook).reduce((a, b) => (b.id > a.id ? b : a)).response_status).toBe('202');
    const settled = await check('gitlab');
    await failOne();
    const next = await check('gitlab');
    expect(next.requested).toBe(1);
    expect([quiet, report, settled, next].map((r) => r.refusedIds)).toEqual([1, 1, 1, 1]);
    await vi.waitFor(
      async () => expect((await log('provider=gitlab&hook=default&outcome=accepted')).length).toBe(4 + 1 + 2),
      { timeout: 20_000, interval: 250 },
    );
  });
});
