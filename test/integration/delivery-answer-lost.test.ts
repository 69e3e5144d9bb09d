// A delivery whose connection closes before its answer goes out (the edge gave up on the bridge,
// the provider hung up) still leaves its record once its start ends: the job Temporal took is
// found from the delivery log, once, and the record says the answer was lost. Fastify runs
// onResponse only for answers that went out, so without this the job had no record at all.
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { request } from 'node:http';
import type { Socket } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { TemporalGateway } from '../../src/temporal/gateway.js';
import { startGatehouse, testSecrets as s, type Caller, type Gatehouse } from '../helpers/gatehouse.js';
import { githubDelivery, githubExample } from '../helpers/webhooks.js';

let h: Gatehouse;
let admin: Caller;
beforeAll(async () => {
  h = await startGatehouse({ worker: false, bridge: 'listen' });
  admin = await h.caller({ groups: ['gatehouse-admins'] });
});
afterAll(async () => {
  await h?.close();
});

async function recordsOf(deliveryId: string): Promise<Array<Record<string, unknown>>> {
  await h.app.deliveries.recorder.flush();
  const answer = await h.app.inject({
    url: `/v1/webhooks/deliveries?deliveryId=${deliveryId}`,
    headers: admin.headers,
  });
  expect(answer.statusCode).toBe(200);
  return (answer.json() as { deliveries: Array<Record<string, unknown>> }).deliveries;
}

/** A signed push to main that the test config's GitHub hook starts a job for. */
function pushDelivery() {
  return githubDelivery(
    {
      ...githubExample('push', (e) => e.ref === 'refs/heads/master'),
      ref: 'refs/heads/main',
      after: randomBytes(20).toString('hex'),
    },
    { secret: s.TEST_GITHUB_SECRET, event: 'push' },
  );
}

it('records a delivery whose connection closed before the answer, once, as accepted with its job', async () => {
  const delivery = pushDelivery();
  const deliveryId = delivery.headers['x-github-delivery']!;

  // Temporal takes the start; its answer is held back until the caller has hung up.
  const call = h.app.temporal.call;
  let landed!: () => void;
  const startLanded = new Promise<void>((resolve) => (landed = resolve));
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  h.app.temporal.call = (async (fn, budget) => {
    const result = await call(fn, budget);
    landed();
    await released;
    return result;
  }) as TemporalGateway['call'];
  const serverSide = once(h.app.server, 'connection') as Promise<[Socket]>;
  try {
    const sent = request(`${h.url}${delivery.url}`, { method: 'POST', headers: delivery.headers });
    sent.on('error', () => {});
    sent.end(delivery.body);
    const [socket] = await serverSide;
    await startLanded;
    sent.destroy();
    await once(socket, 'close');
  } finally {
    release();
    h.app.temporal.call = call;
  }

  let records: Array<Record<string, unknown>> = [];
  await expect
    .poll(async () => (records = await recordsOf(deliveryId)).length, { timeout: 10_000, interval: 100 })
    .toBe(1);
  const [record] = records;
  expect(record).toMatchObject({ outcome: 'accepted', status: 202, route: 'git-event', sample: null });
  expect(String(record!.detail)).toMatch(/closed before the answer was sent/);
  const job = await h.app.temporal.client.workflow.getHandle(String(record!.jobId)).describe();
  expect(job.status.name).toBe('RUNNING');
  expect((await recordsOf(deliveryId)).length, 'recorded once').toBe(1);
});

it('records a delivery answered as usual without the lost-answer note', async () => {
  const delivery = pushDelivery();
  const answer = await fetch(`${h.url}${delivery.url}`, {
    method: 'POST',
    headers: delivery.headers,
    body: delivery.body,
  });
  expect(answer.status).toBe(202);
  const records = await recordsOf(delivery.headers['x-github-delivery']!);
  expect(records).toHaveLength(1);
  expect(records[0]).toMatchObject({ outcome: 'accepted', status: 202, detail: null });
});
