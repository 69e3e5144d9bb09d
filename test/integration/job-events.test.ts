// GET /v1/jobs/{jobId}/events against real Temporal, a real worker and real bridges listening on
// loopback (a stream needs a socket, not inject): visibility, heartbeats, a job's whole story from
// RUNNING to its final state, a CI job's phases and steps as they happen, Last-Event-ID resumed on
// another replica with nothing repeated or lost, the stream caps, and a shutdown that ends streams
// instead of waiting for them.
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { buildApp } from '../../src/bridge/app.js';
import type { GatehouseConfig } from '../../src/config/load-config.js';
import { startBlackHoleProxy } from '../helpers/black-hole-proxy.js';
import { ciFakes, ciOverlay } from '../helpers/ci-overlay.js';
import { loadTestConfig, testLogger, useGatehouse } from '../helpers/gatehouse.js';
import { openStream, startIdleJob, type SseEvent, type SseStream } from '../helpers/sse.js';

/** The bridge listens, as behind the edge (a stream needs a socket); `small` is a second replica that holds at most two streams. */
const g = useGatehouse({
  name: 'gatehouse-events',
  bridge: 'listen',
  fakes: ciFakes({ 'README.md': 'events\n' }),
  overlay: ({ fakes }) => ({
    ...ciOverlay(fakes, [
      {
        repositories: ['acme-events/*'],
        runner: 'steps',
        steps: [
          { name: 'one', run: 'sleep 0.5; echo one', timeout: '1m' },
          { name: 'two', run: 'sleep 0.5; echo two', timeout: '1m' },
          { name: 'three', run: 'sleep 0.5; echo three', timeout: '1m' },
        ],
      },
      {
        repositories: ['acme-events-broken/*'],
        runner: 'steps',
        steps: [{ name: 'fails', run: 'exit 4', timeout: '1m' }],
      },
    ]),
    // Streams must outlive the time a request may take to arrive.
    server: { requestTimeout: '1s' },
    limits: { streamHeartbeat: '300ms', maxStreamsPerCaller: 3 },
  }),
});
let small: { app: FastifyInstance; url: string };
const opened: SseStream[] = [];

/** Another replica of the bridge, listening on loopback. */
async function listen(config: GatehouseConfig) {
  const app = await buildApp(config, { logger: testLogger() });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address() as { port: number };
  return { app, url: `http://127.0.0.1:${address.port}` };
}

beforeAll(async () => {
  small = await listen({ ...g.config, limits: { ...g.config.limits, maxStreams: 2 } });
});

afterAll(async () => {
  for (const stream of opened) stream.close();
  await small?.app.close();
});

/** A CI job's input for a repository of the test git server. */
const ciInput = (repository: string) => ({
  provider: 'github',
  repository: { fullName: repository },
  after: g.fakes.git.sha,
});

const terminate = (jobId: string) => g.app.temporal.client.workflow.getHandle(jobId).terminate('test is done');
/** An event as the test compares it: its id, type and data, not when it arrived. */
const plain = (event: SseEvent) => ({ id: event.id, event: event.event, data: event.json() });
const isFinal = (event: SseEvent) => event.event === 'status' && event.id?.endsWith(':end') === true;

/** Counts the workflow queries a bridge sends from now on (each one a worker's replay of a closed run). */
function countQueries(app: FastifyInstance): { count: number } {
  const counter = { count: 0 };
  const service = app.temporal.client.workflowService;
  const query = service.queryWorkflow.bind(service);
  service.queryWorkflow = ((...args: Parameters<typeof query>) => {
    counter.count += 1;
    return query(...args);
  }) as typeof service.queryWorkflow;
  return counter;
}

describe('job events', () => {
  it('is described in the OpenAPI document as an event stream with Last-Event-ID', async () => {
    const doc = (await (await g.caller()).request({ url: '/openapi.json' })).json();
    const operation = doc.paths['/v1/jobs/{jobId}/events'].get;
    expect(operation.operationId).toBe('job-events');
    expect(operation.security).toEqual([{ bearerAuth: [] }]);
    expect(operation.parameters.map((p: { name: string; in: string }) => `${p.in} ${p.name}`)).toEqual(
      expect.arrayContaining(['path jobId', 'header last-event-id']),
    );
    expect(Object.keys(operation.responses['200'].content)).toEqual(['text/event-stream']);
    expect(Object.keys(operation.responses)).toEqual(expect.arrayContaining(['200', '204', '4XX', '5XX']));
    expect(operation.description).toContain('Last-Event-ID');
  });

  it('answers 404 for a job the caller may not see, exactly like one that does not exist; admins may follow it', async () => {
    const owner = await g.caller();
    const jobId = await startIdleJob(g.app.temporal.client, owner.principal);
    const stranger = await g.caller();
    const hidden = await stranger.events(jobId);
    const missing = await stranger.events('policy-check.nosuchjob0000000000000000');
    for (const answer of [hidden, missing]) {
      expect(answer.status).toBe(404);
      expect(answer.headers['content-type']).toContain('application/problem+json');
    }
    await hidden.ended;
    await missing.ended;
    expect(JSON.parse(hidden.body)).toMatchObject({ code: 'GATEHOUSE_JOB_NOT_FOUND' });
    expect(JSON.parse(hidden.body).detail).toBe(JSON.parse(missing.body).detail);
    const anonymous = await openStream({ url: `${g.url}/v1/jobs/${jobId}/events`, token: '' });
    opened.push(anonymous);
    expect(anonymous.status).toBe(401);

    const admin = await g.caller({ groups: ['gatehouse-admins'] });
    const watched = await admin.events(jobId);
    expect(watched.status).toBe(200);
    await watched.waitFor((e) => e.event === 'status');
    watched.close();
    await terminate(jobId);
  });

  it("streams a running job: RUNNING, heartbeats at the configured interval past the server's request timeout, the final state when it closes, then end", async () => {
    const owner = await g.caller();
    const jobId = await startIdleJob(g.app.temporal.client, owner.principal);
    const stream = await owner.events(jobId);
    expect(stream.status).toBe(200);
    expect(stream.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(stream.headers['cache-control']).toBe('no-cache, no-transform');
    expect(stream.headers['x-request-id']).toBeDefined();
    const running = await stream.waitFor((e) => e.event === 'status');
    expect(running.json()).toMatchObject({ jobId, status: 'RUNNING', owner: owner.principal, route: 'policy-check' });
    expect(running.id).toMatch(/^[A-Za-z0-9_-]{10}:0$/);
    expect(stream.retries[0]).toBe(2000);

    // Over 1.5 s (server.requestTimeout is 1 s): the stream lives on, on heartbeats only.
    const firstBeat = performance.now();
    await new Promise<void>((resolve) => {
      const check = setInterval(() => {
        if (stream.comments.filter((c) => c.text === 'keep-alive').length >= 5) {
          clearInterval(check);
          resolve();
        }
      }, 20);
    });
    const beats = stream.comments.filter((c) => c.text === 'keep-alive').map((c) => c.at);
    const gaps = beats.slice(1).map((at, i) => at - beats[i]!);
    expect(Math.min(...gaps)).toBeGreaterThan(200);
    expect(Math.max(...gaps)).toBeLessThan(600);
    expect(performance.now() - firstBeat).toBeGreaterThan(1_000);
    expect(stream.events).toHaveLength(1);

    await terminate(jobId);
    const final = await stream.waitFor(isFinal);
    expect(final.json()).toMatchObject({ jobId, status: 'TERMINATED', closedAt: expect.any(String) });
    await stream.ended;
    expect(stream.endedCleanly()).toBe(true);
    expect(stream.events.map((e) => e.event)).toEqual(['status', 'status', 'end']);
    expect(stream.events[2]!.id).toBe(final.id); // `end` has no id of its own
  });

  it("follows a CI job's phases and steps as they happen, then its result; a closed job's stream tells the same story", async () => {
    const me = await g.caller({ groups: ['maintainers'] });
    const jobId = (await me.start('ci', ciInput('acme-events/app'))).jobId;
    const live = await me.events(jobId);
    const final = await live.waitFor(isFinal, { timeout: 60_000 });
    await live.ended;
    const story = live.events.map((e) => [e.event, e.event === 'step' ? `${e.json().name} ${e.json().state}` : '']);
    expect(story).toEqual([
      ['status', ''],
      ['phase', ''],
      ['phase', ''],
      ['phase', ''],
      ['step', 'one started'],
      ['step', 'one passed'],
      ['step', 'two started'],
      ['step', 'two passed'],
      ['step', 'three started'],
      ['step', 'three passed'],
      ['phase', ''],
      ['status', ''],
      ['end', ''],
    ]);
    expect(live.events.filter((e) => e.event === 'phase').map((e) => e.json().phase)).toEqual([
      'planning',
      'checking out',
      'running',
      'passed',
    ]);
    // Ids count up from 0, one per event, and the final state is `end`.
    const run = live.events[0]!.id!.split(':')[0]!;
    expect(live.events.slice(0, -2).map((e) => e.id)).toEqual(
      Array.from({ length: live.events.length - 2 }, (_, i) => `${run}:${i}`),
    );
    expect(final.json()).toMatchObject({ status: 'COMPLETED', result: { outcome: 'passed', runner: 'steps' } });
    expect(live.events.find((e) => e.event === 'step' && e.json().state === 'passed')!.json()).toMatchObject({
      index: 0,
      name: 'one',
      exitCode: 0,
      durationMs: expect.any(Number),
      at: expect.any(String),
    });
    // Live: the first step was told well before the job closed (the steps take 1.5 s).
    const firstStep = live.events.find((e) => e.event === 'step')!;
    expect(final.at - firstStep.at).toBeGreaterThan(800);

    // The watch that saw the run close kept its log: a stream on the closed job asks no worker.
    const queries = countQueries(g.app);
    const replay = await me.events(jobId);
    await replay.ended;
    expect(replay.events.map(plain)).toEqual(live.events.map(plain));
    expect(queries.count).toBe(0);
  }, 90_000);

  it("reads a closed CI job's log once per bridge, however many streams ask for it", async () => {
    const me = await g.caller({ groups: ['maintainers'] });
    const jobId = (await me.start('ci', ciInput('acme-events/app'))).jobId;
    await g.app.temporal.client.workflow.getHandle(jobId).result();
    // A bridge that never followed the job: each of its streams used to cost a worker a replay.
    const replica = await listen({ ...g.config, limits: { ...g.config.limits, maxStreamsPerCaller: 20 } });
    try {
      const queries = countQueries(replica.app);
      const together = await Promise.all([1, 2, 3, 4, 5].map(() => me.events(jobId, { base: replica.url })));
      const after: SseStream[] = [];
      for (let i = 0; i < 5; i += 1) after.push(await me.events(jobId, { base: replica.url }));
      const streams = [...together, ...after];
      for (const stream of streams) await stream.ended;
      const story = streams[0]!.events.map(plain);
      expect(story.map((e) => e.event)).toEqual(expect.arrayContaining(['step', 'phase', 'end']));
      for (const stream of streams) expect(stream.events.map(plain)).toEqual(story);
      expect(queries.count).toBe(1);
    } finally {
      await replica.app.close();
    }
  }, 90_000);

  it('logs a failing step and ends with the failure', async () => {
    const me = await g.caller({ groups: ['maintainers'] });
    const jobId = (await me.start('ci', ciInput('acme-events-broken/app'))).jobId;
    const stream = await me.events(jobId);
    const final = await stream.waitFor(isFinal, { timeout: 60_000 });
    expect(stream.events.filter((e) => e.event === 'step').map((e) => e.json())).toMatchObject([
      { name: 'fails', state: 'started' },
      { name: 'fails', state: 'failed', exitCode: 4 },
    ]);
    expect(stream.events.filter((e) => e.event === 'phase').map((e) => e.json().phase)).toEqual([
      'planning',
      'checking out',
      'running',
      'failed',
    ]);
    expect(final.json()).toMatchObject({ status: 'FAILED', failure: { type: 'PipelineFailed' } });
  }, 90_000);

  it('resumes after Last-Event-ID on another replica with nothing repeated and nothing lost; 204 after the final state', async () => {
    const me = await g.caller({ groups: ['maintainers'] });
    const jobId = (await me.start('ci', ciInput('acme-events/app'))).jobId;
    const first = await me.events(jobId);
    const cut = await first.waitFor((e) => e.event === 'step', { count: 2, timeout: 60_000 });
    first.close();
    const seen = first.events.slice(0, first.events.indexOf(cut) + 1);

    const resumed = await me.events(jobId, { base: small.url, lastEventId: cut.id! });
    expect(resumed.status).toBe(200);
    await resumed.waitFor(isFinal, { timeout: 60_000 });
    await resumed.ended;
    expect(resumed.events[0]!.id).not.toBe(cut.id);

    const whole = await me.events(jobId);
    await whole.ended;
    expect([...seen, ...resumed.events].map(plain)).toEqual(whole.events.map(plain));

    const after = await me.events(jobId, { lastEventId: whole.events.find(isFinal)!.id! });
    expect(after.status).toBe(204);
    const bad = await me.events(jobId, { lastEventId: 'not-an-id' });
    expect(bad.status).toBe(400);
    await bad.ended;
    expect(JSON.parse(bad.body)).toMatchObject({ code: 'GATEHOUSE_BAD_REQUEST' });
    // An id of another run is no position in this one: its log starts over.
    const other = await me.events(jobId, { lastEventId: 'AAAAAAAAAA:3' });
    await other.ended;
    expect(other.events.map(plain)).toEqual(whole.events.map(plain));
  }, 90_000);

  it('caps streams per caller (429) and per bridge (503), and frees a slot when a stream ends', async () => {
    const owner = await g.caller();
    const jobId = await startIdleJob(g.app.temporal.client, owner.principal);
    const three = await Promise.all([1, 2, 3].map(() => owner.events(jobId)));
    expect(three.map((s) => s.status)).toEqual([200, 200, 200]);
    const fourth = await owner.events(jobId);
    expect(fourth.status).toBe(429);
    expect(fourth.headers['retry-after']).toBe('10');
    await fourth.ended;
    expect(JSON.parse(fourth.body)).toMatchObject({ code: 'GATEHOUSE_TOO_MANY_STREAMS', status: 429 });
    const other = await g.caller({ groups: ['gatehouse-admins'] });
    expect((await other.events(jobId)).status).toBe(200);
    three[0]!.close();
    await expect.poll(async () => (await owner.events(jobId)).status, { timeout: 10_000, interval: 200 }).toBe(200);

    const onSmall = await Promise.all([1, 2].map(() => other.events(jobId, { base: small.url })));
    expect(onSmall.map((s) => s.status)).toEqual([200, 200]);
    const full = await (await g.caller()).events(jobId, { base: small.url });
    expect(full.status).toBe(503);
    expect(full.headers['retry-after']).toBe('5');
    await full.ended;
    expect(JSON.parse(full.body)).toMatchObject({ code: 'GATEHOUSE_STREAM_CAPACITY' });
    for (const stream of onSmall) stream.close();
    await terminate(jobId);
  });

  it('shares one watch per run, and lets go of it when the last stream leaves', async () => {
    const owner = await g.caller({ groups: ['gatehouse-admins'] });
    const jobId = await startIdleJob(g.app.temporal.client, owner.principal);
    const streams = await Promise.all([1, 2, 3].map(() => owner.events(jobId)));
    for (const stream of streams) await stream.waitFor((e) => e.event === 'status');
    const gauge = async () => {
      const text = await g.app.metrics.registry.getSingleMetricAsString('gatehouse_job_streams');
      return Object.fromEntries([...text.matchAll(/kind="(\w+)"\} (\d+)/g)].map(([, kind, n]) => [kind, Number(n)]));
    };
    const during = await gauge();
    expect(during.clients).toBeGreaterThanOrEqual(3);
    const watchesBefore = during.watches!;
    for (const stream of streams) stream.close();
    await expect
      .poll(async () => (await gauge()).watches, { timeout: 10_000, interval: 200 })
      .toBeLessThan(watchesBefore);
    await terminate(jobId);
  });

  it('ends a stream after limits.streamMaxDuration with a retry, and the client resumes where it was', async () => {
    const replica = await listen({ ...g.config, limits: { ...g.config.limits, streamMaxDuration: '1s' } });
    try {
      const owner = await g.caller();
      const jobId = await startIdleJob(g.app.temporal.client, owner.principal);
      const stream = await owner.events(jobId, { base: replica.url });
      await stream.ended;
      expect(stream.endedCleanly()).toBe(true);
      expect(stream.events.map((e) => e.event)).toEqual(['status']);
      expect(stream.retries).toHaveLength(2);
      expect(stream.retries[1]).toBeLessThanOrEqual(1_000);
      expect(stream.comments.map((c) => c.text)).toContain(
        'stream duration limit reached; reconnect with Last-Event-ID',
      );
      const resumed = await owner.events(jobId, { base: replica.url, lastEventId: stream.events[0]!.id! });
      await terminate(jobId);
      await resumed.ended;
      expect(resumed.events.map((e) => [e.event, e.json().status])).toEqual([
        ['status', 'TERMINATED'],
        ['end', 'TERMINATED'],
      ]);
    } finally {
      await replica.app.close();
    }
  });

  it('stays open on heartbeats while Temporal hangs, and sends the final state once it answers again', async () => {
    const proxy = await startBlackHoleProxy(inject('temporalAddress'));
    const proxied = loadTestConfig({
      issuer: g.issuer,
      taskQueue: g.taskQueue,
      env: { TEMPORAL_ADDRESS: proxy.address },
    });
    const replica = await listen({ ...proxied, limits: g.config.limits });
    try {
      const owner = await g.caller();
      const jobId = await startIdleJob(g.app.temporal.client, owner.principal);
      const stream = await owner.events(jobId, { base: replica.url });
      await stream.waitFor((e) => e.event === 'status');
      proxy.blackHole();
      await terminate(jobId); // through the other bridge's own connection
      const beats = stream.comments.length;
      await expect.poll(() => stream.comments.length, { timeout: 10_000 }).toBeGreaterThanOrEqual(beats + 5);
      expect(stream.events).toHaveLength(1);
      proxy.forward();
      const final = await stream.waitFor(isFinal, { timeout: 40_000 });
      expect(final.json()).toMatchObject({ status: 'TERMINATED' });
      await stream.ended;
      expect(stream.endedCleanly()).toBe(true);
    } finally {
      await replica.app.close();
      await proxy.close();
    }
  }, 60_000);

  it('ends every stream when the bridge starts draining, before the edge cuts them, and opens no more', async () => {
    const replica = await listen(g.config);
    try {
      const owner = await g.caller();
      const jobId = await startIdleJob(g.app.temporal.client, owner.principal);
      const stream = await owner.events(jobId, { base: replica.url });
      await stream.waitFor((e) => e.event === 'status');
      replica.app.jobs.drainStreams();
      await stream.ended;
      expect(stream.endedCleanly()).toBe(true);
      expect(stream.retries.at(-1)).toBeGreaterThanOrEqual(500);
      const refused = await owner.events(jobId, { base: replica.url });
      expect(refused.status).toBe(503);
      expect(refused.headers['retry-after']).toBe('1');
      await refused.ended;
      await terminate(jobId);
    } finally {
      await replica.app.close();
    }
  });

  it("gives each principal a share of a bridge's watches (429 beyond it), while others still get theirs", async () => {
    const replica = await listen({
      ...g.config,
      limits: { ...g.config.limits, maxStreamsPerCaller: 10, maxStreamWatchesPerCaller: 2 },
    });
    try {
      const owner = await g.caller();
      const jobs: string[] = [];
      for (let i = 0; i < 4; i += 1) jobs.push(await startIdleJob(g.app.temporal.client, owner.principal));
      const [first, second, third, fourth] = jobs as [string, string, string, string];
      const followed = [await owner.events(first, { base: replica.url })];
      followed.push(await owner.events(second, { base: replica.url }));
      for (const stream of followed) await stream.waitFor((e) => e.event === 'status');
      const refused = await owner.events(third, { base: replica.url });
      expect(refused.status).toBe(429);
      expect(refused.headers['retry-after']).toBe('10');
      await refused.ended;
      expect(JSON.parse(refused.body)).toMatchObject({ code: 'GATEHOUSE_TOO_MANY_STREAMS', status: 429 });
      expect(JSON.parse(refused.body).detail).toContain('2 running jobs');
      // A job this principal already follows, and a closed one, need no watch of its own.
      expect((await owner.events(first, { base: replica.url })).status).toBe(200);
      await terminate(fourth);
      const closed = await owner.events(fourth, { base: replica.url });
      expect(closed.status).toBe(200);
      await closed.ended;
      // Another principal still gets its share, on the same bridge.
      const admin = await g.caller({ groups: ['gatehouse-admins'] });
      const others = [await admin.events(third, { base: replica.url })];
      others.push(await admin.events(first, { base: replica.url }));
      expect(others.map((s) => s.status)).toEqual([200, 200]);
      // Leaving a watch gives the share back.
      for (const stream of followed) stream.close();
      const fifth = await startIdleJob(g.app.temporal.client, owner.principal);
      await expect
        .poll(async () => (await owner.events(fifth, { base: replica.url })).status, {
          timeout: 10_000,
          interval: 200,
        })
        .toBe(200);
      for (const jobId of [first, second, third, fifth]) await terminate(jobId);
    } finally {
      await replica.app.close();
    }
  });

  it('follows at most limits.maxStreamWatches running jobs on one bridge (503 beyond)', async () => {
    const replica = await listen({
      ...g.config,
      limits: { ...g.config.limits, maxStreamWatches: 1 },
    } as GatehouseConfig);
    try {
      const owner = await g.caller();
      const [first, second] = [
        await startIdleJob(g.app.temporal.client, owner.principal),
        await startIdleJob(g.app.temporal.client, owner.principal),
      ];
      const followed = await owner.events(first, { base: replica.url });
      await followed.waitFor((e) => e.event === 'status');
      // The same job again joins its watch; another job would need a second.
      expect((await owner.events(first, { base: replica.url })).status).toBe(200);
      const refused = await owner.events(second, { base: replica.url });
      expect(refused.status).toBe(503);
      await refused.ended;
      expect(JSON.parse(refused.body)).toMatchObject({ code: 'GATEHOUSE_STREAM_CAPACITY' });
      await terminate(first);
      await terminate(second);
    } finally {
      await replica.app.close();
    }
  });

  it('ends every stream with a retry when the bridge shuts down, instead of waiting for them', async () => {
    const replica = await listen(g.config);
    const owner = await g.caller();
    const jobId = await startIdleJob(g.app.temporal.client, owner.principal);
    const stream = await owner.events(jobId, { base: replica.url });
    await stream.waitFor((e) => e.event === 'status');
    const began = performance.now();
    await replica.app.close();
    await stream.ended;
    expect(performance.now() - began).toBeLessThan(2_000);
    expect(stream.endedCleanly()).toBe(true);
    expect(stream.retries.length).toBe(2);
    expect(stream.retries[1]).toBeGreaterThanOrEqual(500);
    expect(stream.retries[1]).toBeLessThanOrEqual(3_000);
    expect(stream.comments.map((c) => c.text)).toContain('the bridge is shutting down; reconnect with Last-Event-ID');
    // The client resumes on another replica after what it had: the final state only.
    await terminate(jobId);
    const resumed = await owner.events(jobId, { lastEventId: stream.events.at(-1)!.id! });
    await resumed.ended;
    expect(resumed.events.map((e) => e.event)).toEqual(['status', 'end']);
    expect(resumed.events[0]!.json()).toMatchObject({ status: 'TERMINATED' });
  });
});
