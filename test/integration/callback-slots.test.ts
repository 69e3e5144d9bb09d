// Callback attempts run on slots of their own: a receiver that takes the request and never answers
// (a black hole) holds the attempts in flight for callbacks.timeout, and the job queue's worker,
// given only two activity slots here, still runs a policy job to completion meanwhile. Real bridge,
// real worker, the shared Temporal dev server; the black hole is a node:net server on 127.0.0.1
// that reads requests and never writes. The assertion is an order of events, not a time bound:
// the policy job completes while both callback attempts are still being held.
import { once } from 'node:events';
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, expect, it } from 'vitest';
import { callbackPostQueue, callbackWorkflowId } from '../../src/core/callbacks.js';
import { useGatehouse } from '../helpers/gatehouse.js';
import { deployApi } from '../helpers/queries.js';

/** Takes connections and requests, answers nothing; says when a held request's connection ends. */
class BlackHole {
  readonly sockets = new Set<Socket>();
  /** Connections that carried a POST (a callback attempt in flight). */
  held = 0;
  private readonly server: Server;
  private dropped: (() => void) | undefined;
  /** Resolves when a held connection ends before the test let it go. */
  readonly lost = new Promise<string>((resolve) => (this.dropped = () => resolve('a held attempt ended')));
  private releasing = false;

  constructor() {
    this.server = createServer((socket) => {
      this.sockets.add(socket);
      let posted = false;
      socket.on('data', (chunk: Buffer) => {
        if (!posted && chunk.toString('latin1').startsWith('POST ')) {
          posted = true;
          this.held += 1;
        }
      });
      socket.on('close', () => {
        this.sockets.delete(socket);
        if (posted && !this.releasing) this.dropped?.();
      });
    });
  }

  async listen(): Promise<this> {
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
    return this;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** Lets the held attempts go and stops listening; again, does nothing. */
  async close(): Promise<void> {
    if (!this.server.listening) return;
    this.releasing = true;
    for (const socket of this.sockets) socket.destroy();
    this.server.close();
    await once(this.server, 'close');
  }
}

const hole = new BlackHole();

const g = useGatehouse({
  name: 'gatehouse-callback-slots',
  fakes: { hole: () => hole.listen() },
  overlay: ({ fakes }) => ({
    callbacks: {
      receivers: {
        hole: {
          url: `http://127.0.0.1:${fakes.hole.port}/**`,
          secret: { env: 'TEST_CALLBACK_SECRET' },
          routes: ['policy-check'],
        },
      },
      // An attempt is held for as long as an attempt may last: far longer than this test.
      timeout: '5m',
      retryFor: '10m',
    },
    // The job queue's worker has two activity slots: two held attempts would take them all.
    worker: { activitySlots: 2 },
  }),
});

// Runs before the fixture's own afterAll: the held attempts go first, so the worker's shutdown
// does not wait on them.
afterAll(async () => {
  await hole.close();
  for (const jobId of started) {
    await g.app.temporal.client.workflow
      .getHandle(callbackWorkflowId(jobId))
      .terminate('test over')
      .catch(() => undefined);
  }
});

const started: string[] = [];

it("gives the job queue's worker the activity slots worker.activitySlots names, and its callbacks worker its own", () => {
  const slotsOf = (queue: string) => {
    const worker = g.workers!.set.workers.find((w) => w.options.taskQueue === queue);
    const tuner = worker?.options.tuner as { activityTaskSlotSupplier?: { type: string; numSlots?: number } };
    return tuner.activityTaskSlotSupplier;
  };
  expect(slotsOf(g.taskQueue)).toEqual({ type: 'fixed-size', numSlots: 2 });
  expect(slotsOf(callbackPostQueue(g.taskQueue))).toEqual({
    type: 'fixed-size',
    numSlots: g.config.callbacks.maxConcurrent,
  });
});

it("runs a policy job to completion while a black-holed receiver holds two callback attempts, which never take the job queue's slots", async () => {
  const me = await g.caller({ groups: ['maintainers'] });
  const port = new URL(g.config.callbacks.receivers.hole!.url.replace('/**', '/')).port;
  for (let i = 0; i < 2; i++) {
    const callback = { 'gatehouse-callback-url': `http://127.0.0.1:${port}/jobs/${i}` };
    started.push((await me.start('policy-check', deployApi, { headers: callback })).jobId);
  }
  // Both jobs closed and both attempts are in flight, held by the black hole.
  await expect.poll(() => hole.held, { timeout: 20_000 }).toBe(2);

  const { jobId } = await me.start('policy-check', deployApi);
  const completed = g.app.temporal.client.workflow
    .getHandle(jobId)
    .result()
    .then(() => 'the policy job completed');
  // Whichever comes first: the job's completion, or a held attempt ending (its timeout freeing a
  // slot, which is how the job would get one if attempts shared the job queue's slots).
  expect(await Promise.race([completed, hole.lost])).toBe('the policy job completed');
  expect(hole.held).toBe(2);
  expect(hole.sockets.size).toBeGreaterThanOrEqual(2);
});
