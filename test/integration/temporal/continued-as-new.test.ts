// A job whose workflow continues as new has not closed: the job's id names the next run. Against
// a real Temporal and a real worker running a workflow that continues as new on a signal, the
// one run follower (src/temporal/run-follower.ts) moves on to each next run and reports the close
// only at the end, and so ?wait answers the last run's result, and an event stream goes on with
// the next run's log and ends with the job's final state, never with CONTINUED_AS_NEW.
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { ownerKey, routeKey, sourceKey } from '../../../src/core/search-attributes.js';
import type { RunNews } from '../../../src/temporal/run-follower.js';
import { useGatehouse } from '../../helpers/gatehouse.js';
import { openStream } from '../../helpers/sse.js';

const h = useGatehouse({ worker: false });
const taskQueue = `hops-${randomUUID()}`;
let client: Client;
let connection: Connection;
let workerConnection: NativeConnection;
let worker: Worker;
let running: Promise<void>;
let url: string;

beforeAll(async () => {
  connection = await Connection.connect({ address: inject('temporalAddress') });
  client = new Client({ connection });
  workerConnection = await NativeConnection.connect({ address: inject('temporalAddress') });
  worker = await Worker.create({
    connection: workerConnection,
    taskQueue,
    workflowsPath: fileURLToPath(new URL('../../fixtures/workflows/hops.ts', import.meta.url)),
  });
  running = worker.run();
  await h.app.listen({ host: '127.0.0.1', port: 0 });
  url = `http://127.0.0.1:${(h.app.server.address() as { port: number }).port}`;
});

afterAll(async () => {
  worker?.shutdown();
  await running;
  await workerConnection?.close();
  await connection?.close();
});

/** A job owned by `principal` that continues as new `hops` times, one run per `hop` signal. */
async function startHops(principal: string, hops: number): Promise<{ jobId: string; firstRun: string }> {
  const jobId = `policy-check.hops${randomUUID().replaceAll('-', '')}`;
  const handle = await client.workflow.start('hops', {
    workflowId: jobId,
    taskQueue,
    args: [hops],
    memo: {
      identity: { method: 'jwt', principal, subject: principal, issuer: 'test', groups: [], roles: [], scopes: [] },
      request: {
        requestId: randomUUID(),
        route: 'policy-check',
        receivedAt: new Date().toISOString(),
        clientAddress: '127.0.0.1',
        bodySha256: '0'.repeat(64),
      },
    },
    typedSearchAttributes: [
      { key: ownerKey, value: principal },
      { key: routeKey, value: 'policy-check' },
      { key: sourceKey, value: 'api' },
    ],
  });
  return { jobId, firstRun: handle.firstExecutionRunId };
}

/** Moves the job on by one run (or completes it) and answers the run it is on afterwards. */
async function hop(jobId: string, from: string): Promise<string> {
  await client.workflow.getHandle(jobId).signal('hop');
  let now = from;
  await vi.waitFor(
    async () => {
      const description = await client.workflow.getHandle(jobId).describe();
      now = description.runId;
      expect(now !== from || description.status.name !== 'RUNNING').toBe(true);
    },
    { timeout: 10_000, interval: 50 },
  );
  return now;
}

describe('a job that continues as new', () => {
  it('is followed to its next runs and closed only when its last run closes, in both modes', async () => {
    const { principal } = await h.caller();
    const { jobId, firstRun } = await startHops(principal, 1);
    const heard: Record<'close' | 'events', RunNews[]> = { close: [], events: [] };
    const leave = (['close', 'events'] as const).map((mode) =>
      h.app.temporal.runs.follow({ jobId, runId: firstRun }, mode, (news) => heard[mode].push(news)),
    );
    const closed = h.app.temporal.runs.untilClosed({ jobId, runId: firstRun }, new AbortController().signal);
    let settled = false;
    void closed.then(() => (settled = true));

    const secondRun = await hop(jobId, firstRun);
    expect(secondRun).not.toBe(firstRun);
    for (const mode of ['close', 'events'] as const) {
      await vi.waitFor(() => expect(heard[mode].some((news) => news.kind === 'continued')).toBe(true));
      expect(heard[mode].find((news) => news.kind === 'continued')).toEqual({
        kind: 'continued',
        runId: firstRun,
        next: secondRun,
      });
    }
    // One run continued; the job has not closed.
    expect(settled).toBe(false);
    expect(heard.close.some((news) => news.kind === 'closed')).toBe(false);
    // The events mode heard the workflow tasks too (the one that handled the signal at least).
    expect(heard.events.some((news) => news.kind === 'progressed')).toBe(true);

    await hop(jobId, secondRun);
    await closed;
    for (const mode of ['close', 'events'] as const) {
      await vi.waitFor(() => expect(heard[mode].at(-1)).toEqual({ kind: 'closed', runId: secondRun }));
      expect(heard[mode].filter((news) => news.kind === 'closed' || news.kind === 'lost')).toHaveLength(1);
    }
    for (const stop of leave) stop();
    expect(h.app.temporal.runs.counts('close')).toEqual({ followers: 0, polls: 0 });
    expect(h.app.temporal.runs.counts('events')).toEqual({ followers: 0, polls: 0 });
  }, 60_000);

  it('answers ?wait with the last run once it completes, not with CONTINUED_AS_NEW', async () => {
    const { principal, token } = await h.caller();
    const { jobId, firstRun } = await startHops(principal, 2);
    const waited = h.app.inject({ url: `/v1/jobs/${jobId}?wait=25`, headers: { authorization: `Bearer ${token}` } });
    await vi.waitFor(() => expect(h.app.temporal.runs.counts('close').followers).toBeGreaterThan(0));
    const secondRun = await hop(jobId, firstRun);
    const thirdRun = await hop(jobId, secondRun);
    await hop(jobId, thirdRun);
    const answer = await waited;
    expect(answer.statusCode).toBe(200);
    expect(answer.json()).toMatchObject({ jobId, runId: thirdRun, status: 'COMPLETED', result: 'landed' });
  }, 60_000);

  it("streams each run's log in turn and ends with the job's final state", async () => {
    const { principal, token } = await h.caller();
    const { jobId, firstRun } = await startHops(principal, 1);
    const stream = await openStream({ url: `${url}/v1/jobs/${jobId}/events`, token });
    expect(stream.status).toBe(200);
    const first = await stream.waitFor((event) => event.event === 'status');
    expect(first.json()).toMatchObject({ runId: firstRun, status: 'RUNNING' });

    const secondRun = await hop(jobId, firstRun);
    const second = await stream.waitFor((event) => event.event === 'status' && event.json().runId === secondRun);
    expect(second.json()).toMatchObject({ status: 'RUNNING' });
    expect(second.id).toMatch(/:0$/);
    expect(second.id).not.toBe(first.id);

    await hop(jobId, secondRun);
    await stream.ended;
    const statuses = stream.events.filter((event) => event.event === 'status').map((event) => event.json());
    expect(statuses.map((status) => [status.runId, status.status])).toEqual([
      [firstRun, 'RUNNING'],
      [secondRun, 'RUNNING'],
      [secondRun, 'COMPLETED'],
    ]);
    expect(statuses.at(-1)).toMatchObject({ result: 'landed' });
    expect(stream.events.at(-1)?.event).toBe('end');
    expect(stream.endedCleanly()).toBe(true);
  }, 60_000);
});
