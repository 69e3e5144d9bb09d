// Temporal stopped while requests and webhook deliveries arrive: the bridge answers 503 with
// Retry-After within a bounded time (never a hang, never a 2xx), readiness drops, and once Temporal is back on the same
// address the bridge recovers by itself. This file runs its own dev server, because it kills it.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startDevServer, type DevServer } from '../../src/dev/temporal-dev-server.js';
import { startGatehouse, testSecrets, type Gatehouse } from '../helpers/gatehouse.js';
import { deliver, githubDelivery, githubExample } from '../helpers/webhooks.js';
import { readWebsite } from '../helpers/queries.js';

const query = readWebsite;

let scratch: string;
let server: DevServer;
let h: Gatehouse;

beforeAll(async () => {
  scratch = mkdtempSync(join(tmpdir(), 'gatehouse-outage-'));
  server = await startDevServer({ dbFile: join(scratch, 'temporal.db') });
  h = await startGatehouse({ worker: false, env: { TEMPORAL_ADDRESS: server.address } });
});

afterAll(async () => {
  await h?.close();
  await server?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

describe('Temporal outage', () => {
  it('answers 503 quickly while Temporal is down, and recovers when it returns', async () => {
    const { token } = await h.caller();
    const headers = { authorization: `Bearer ${token}` };
    const before = await h.app.inject({ method: 'POST', url: '/v1/jobs/policy-check', payload: query, headers });
    expect(before.statusCode).toBe(202);
    expect((await h.app.inject({ url: '/readyz' })).statusCode).toBe(200);

    await server.stop();

    const outageKey = 'during-outage';
    const timings: number[] = [];
    const answers = await Promise.all(
      Array.from({ length: 5 }, async () => {
        const began = Date.now();
        const answer = await h.app.inject({
          method: 'POST',
          url: '/v1/jobs/policy-check',
          payload: query,
          headers: { ...headers, 'idempotency-key': outageKey },
        });
        timings.push(Date.now() - began);
        return answer;
      }),
    );
    for (const answer of answers) {
      expect(answer.statusCode).toBe(503);
      expect(answer.json().code).toBe('GATEHOUSE_TEMPORAL_UNAVAILABLE');
      expect(Number(answer.headers['retry-after'])).toBeGreaterThan(0);
    }
    // requestTimeout is 2 s in the test config: bounded, not the SDK's ~20 s of retries.
    expect(Math.max(...timings)).toBeLessThan(5_000);

    const read = await h.app.inject({ url: `/v1/jobs/${before.json().jobId}`, headers });
    expect(read.statusCode).toBe(503);
    // A webhook delivery during the outage: 503 with Retry-After, so providers that retry will.
    const delivery = githubDelivery(
      { ...githubExample('push', (e) => e.ref === 'refs/heads/master'), ref: 'refs/heads/main' },
      {
        secret: testSecrets.TEST_GITHUB_SECRET,
        event: 'push',
      },
    );
    const duringOutage = await deliver(h.app, delivery);
    expect(duringOutage.statusCode).toBe(503);
    expect(duringOutage.headers['retry-after']).toBeDefined();
    const ready = await h.app.inject({ url: '/readyz' });
    expect(ready.statusCode).toBe(503);

    server = await startDevServer({ port: server.port, dbFile: join(scratch, 'temporal.db') });

    await vi.waitFor(
      async () => {
        expect((await h.app.inject({ url: '/readyz' })).statusCode).toBe(200);
      },
      { timeout: 20_000, interval: 250 },
    );
    // The job started before the outage survived it (same database), and the key used during the
    // outage starts exactly one new job: the 503s left nothing half-started.
    const after = await h.app.inject({ url: `/v1/jobs/${before.json().jobId}`, headers });
    expect(after.statusCode).toBe(200);
    const retried = await h.app.inject({
      method: 'POST',
      url: '/v1/jobs/policy-check',
      payload: query,
      headers: { ...headers, 'idempotency-key': outageKey },
    });
    expect(retried.statusCode).toBe(202);
    expect(retried.headers['idempotent-replayed']).toBeUndefined();
    // The provider's redelivery after the outage starts the job once.
    const redelivered = await deliver(h.app, delivery);
    expect(redelivered.statusCode).toBe(202);
    expect(redelivered.json().duplicate).toBe(false);
  }, 60_000);
});
