// Job event streams through the real edge (HAProxy 2.6 with the project's config, TLS, in front of
// two bridges): events and heartbeats arrive as they are sent (nothing is buffered on the way), a
// reconnect with Last-Event-ID resumes after what the client had, and the edge caps the streams
// one subject holds open, answering 429 before any bridge sees the request.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jwtPrincipal } from '../../src/core/principal.js';
import { startEdgeHarness, type EdgeHarness } from '../helpers/edge.js';
import { uniqueName } from '../helpers/gatehouse.js';
import { openStream, startIdleJob, type SseEvent, type SseStream } from '../helpers/sse.js';

let e: EdgeHarness;
const opened: SseStream[] = [];

beforeAll(async () => {
  e = await startEdgeHarness(
    { EDGE_SUBJECT_STREAMS: '2' },
    {
      overlay: { limits: { streamHeartbeat: '500ms' } },
    },
  );
});
afterAll(async () => {
  for (const stream of opened) stream.close();
  await e?.close();
});

async function subject() {
  const sub = uniqueName('edge-watcher');
  return { token: await e.issuer.mint({ sub }), principal: jwtPrincipal(e.issuer.issuer, sub) };
}

async function follow(jobId: string, token: string, lastEventId?: string): Promise<SseStream> {
  const stream = await openStream({
    url: `https://${e.base.host}:${e.base.port}/v1/jobs/${jobId}/events`,
    token,
    ...(lastEventId === undefined ? {} : { lastEventId }),
  });
  opened.push(stream);
  return stream;
}

const client = () => e.bridges[1].app.temporal.client;
const isFinal = (event: SseEvent) => event.event === 'status' && event.id?.endsWith(':end') === true;
/** Requests for event streams that reached a bridge. */
const streamsSeen = () =>
  [...e.bridges[0].seen, ...e.bridges[1].seen].filter(
    (h) => h['last-event-id'] !== undefined || h.accept === 'text/event-stream',
  ).length;

describe('job events through the edge', () => {
  it('arrive as they are sent, heartbeats included, and a reconnect with Last-Event-ID resumes after them', async () => {
    const { token, principal } = await subject();
    const jobId = await startIdleJob(client(), principal);
    const stream = await follow(jobId, token);
    expect(stream.status).toBe(200);
    expect(stream.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(stream.headers['x-request-id']).toBeDefined();
    const running = await stream.waitFor((event) => event.event === 'status');
    expect(running.json()).toMatchObject({ jobId, status: 'RUNNING' });

    // Heartbeats every 500 ms, each as it is written: not held back and sent in batches.
    await expect.poll(() => stream.comments.length, { timeout: 10_000 }).toBeGreaterThanOrEqual(5);
    const beats = stream.comments.map((c) => c.at);
    const gaps = beats.slice(1).map((at, i) => at - beats[i]!);
    expect(Math.min(...gaps)).toBeGreaterThan(250);
    expect(Math.max(...gaps)).toBeLessThan(900);

    // The client goes away while the job runs; the job closes; it comes back with its last id.
    stream.close();
    await client().workflow.getHandle(jobId).terminate('done');
    const resumed = await follow(jobId, token, running.id);
    expect(resumed.status).toBe(200);
    await resumed.ended;
    expect(resumed.endedCleanly()).toBe(true);
    expect(resumed.events.map((event) => event.event)).toEqual(['status', 'end']);
    expect(resumed.events[0]!.json()).toMatchObject({ status: 'TERMINATED' });
    const after = await follow(jobId, token, resumed.events[0]!.id);
    expect(after.status).toBe(204);
  });

  it('sends the final state the moment the job closes', async () => {
    const { token, principal } = await subject();
    const jobId = await startIdleJob(client(), principal);
    const stream = await follow(jobId, token);
    await stream.waitFor((event) => event.event === 'status');
    const closing = performance.now();
    await client().workflow.getHandle(jobId).terminate('done');
    const final = await stream.waitFor(isFinal);
    expect(final.at - closing).toBeLessThan(2_000);
    await stream.ended;
    expect(stream.endedCleanly()).toBe(true);
  });

  it('caps the streams one subject holds open: 429 at the edge, other subjects unaffected, a slot freed when a stream ends', async () => {
    const greedy = await subject();
    const jobId = await startIdleJob(client(), greedy.principal);
    const two = [await follow(jobId, greedy.token), await follow(jobId, greedy.token)];
    expect(two.map((s) => s.status)).toEqual([200, 200]);
    const before = streamsSeen();
    const third = await follow(jobId, greedy.token);
    expect(third.status).toBe(429);
    expect(third.headers['retry-after']).toBe('10');
    await third.ended;
    expect(JSON.parse(third.body)).toMatchObject({ code: 'GATEHOUSE_TOO_MANY_STREAMS', status: 429 });
    expect(streamsSeen()).toBe(before);

    const admin = await e.issuer.mint({ sub: uniqueName('edge-admin'), groups: ['gatehouse-admins'] });
    expect((await follow(jobId, admin)).status).toBe(200);

    // HAProxy frees the slot when it sees the connection close; on a busy machine that can take a
    // moment longer than expect.poll's default second.
    two[0]!.close();
    await expect
      .poll(
        async () => {
          const again = await follow(jobId, greedy.token);
          if (again.status !== 200) await again.ended;
          return again.status;
        },
        { timeout: 15_000, interval: 250 },
      )
      .toBe(200);
    await client().workflow.getHandle(jobId).terminate('done');
  });
});
