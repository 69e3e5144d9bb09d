// The reconciler's GitLab client against the local GitLab, when the API misbehaves as a hostile or
// redirected server would: no redirect followed (the token stays home), no answer read beyond its
// cap, no page longer than asked for.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGitLabHookClient, maxGitLabAnswerBytes } from '../../../src/providers/gitlab/hook-events.js';
import { startCollector, type Collector } from '../../helpers/collector.js';
import { startFakeGitLabHooks, type FakeGitLabHooks } from '../../helpers/fake-gitlab-hooks.js';

const privateToken = 'gitlab-api-token';
let gitlab: FakeGitLabHooks;
let collector: Collector;

beforeAll(async () => {
  collector = await startCollector();
  gitlab = await startFakeGitLabHooks({
    privateToken,
    hooks: [{ projectId: 3, projectPath: 'acme/app', hookId: 8, url: collector.url }],
  });
});

afterAll(async () => {
  await gitlab?.close();
  await collector?.close();
});

const client = () =>
  createGitLabHookClient({
    apiUrl: `${gitlab.url}/api/v4`,
    project: 'acme/app',
    hookId: 8,
    token: privateToken,
    timeoutMs: 30_000,
  });

describe('the GitLab hook client against a hostile API', () => {
  it('follows no redirect: the token never reaches where a redirected API points', async () => {
    gitlab.redirectApi(collector.url);
    try {
      await expect(client().listEvents(1)).rejects.toMatchObject({
        type: 'ReconcilerRejected',
        nonRetryable: true,
        message: expect.stringContaining('redirect'),
      });
      await expect(client().readHook()).rejects.toMatchObject({ type: 'ReconcilerRejected' });
    } finally {
      gitlab.redirectApi(undefined);
    }
    expect(collector.seen).toEqual([]);
  });

  it('reads no more of an answer than its cap, and no more events than a page holds', async () => {
    gitlab.answerNextRaw(Buffer.alloc(maxGitLabAnswerBytes + 1, ' '));
    await expect(client().listEvents(1)).rejects.toMatchObject({
      type: 'ReconcilerRejected',
      message: expect.stringContaining(`more than ${maxGitLabAnswerBytes} bytes`),
    });
    const event = (id: number, key: string) => ({
      id,
      url: collector.url,
      trigger: 'push_hooks',
      request_headers: { 'Idempotency-Key': key },
      request_data: {},
      response_status: '200',
      created_at: new Date().toISOString(),
    });
    gitlab.answerNextRaw(JSON.stringify([event(3, 'k'.repeat(10_000)), event(2, 'b'), event(1, 'c')]));
    const page = await client().listEvents(1, 2);
    expect('events' in page && page.events.map((e) => [e.id, e.eventKey?.length])).toEqual([
      [3, 200],
      [2, 1],
    ]);
  });
});
