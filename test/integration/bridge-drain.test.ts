// A bridge told to stop (SIGTERM) drains first: for server.drainDelay its /readyz answers 503
// `draining`, so the edge's health check takes it out, while every request still gets a real
// answer; then it finishes and exits 0. The bridge runs as its own process, as in production.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { freePort } from '../../src/dev/temporal-dev-server.js';
import { testConfigFile, testSecrets, useGatehouse } from '../helpers/gatehouse.js';
import { readWebsite } from '../helpers/queries.js';

/** Only the dev issuer: the bridge under test is a process of its own. */
const g = useGatehouse({ worker: false, bridge: false });
let bridge: ChildProcess;
let base: string;

beforeAll(async () => {
  const listen = `127.0.0.1:${await freePort()}`;
  base = `http://${listen}`;
  bridge = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    env: {
      ...process.env,
      ...testSecrets,
      GATEHOUSE_CONFIG: testConfigFile,
      GATEHOUSE_LISTEN: listen,
      GATEHOUSE_METRICS_LISTEN: `127.0.0.1:${await freePort()}`,
      GATEHOUSE_DRAIN_DELAY: '3s',
      TEMPORAL_ADDRESS: inject('temporalAddress'),
      GATEHOUSE_JWT_ISSUER: g.issuer.issuer,
      GATEHOUSE_JWT_AUDIENCE: g.issuer.audience,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const log = createWriteStream(process.env.GATEHOUSE_TEST_LOG!, { flags: 'a' });
  bridge.stdout!.pipe(log);
  bridge.stderr!.pipe(log);
  const deadline = Date.now() + 30_000;
  while ((await fetch(`${base}/readyz`).catch(() => undefined))?.status !== 200) {
    if (Date.now() > deadline || bridge.exitCode !== null) throw new Error('the bridge did not get ready');
    await new Promise((r) => setTimeout(r, 100));
  }
});

afterAll(async () => {
  if (bridge.exitCode === null) bridge.kill('SIGKILL');
});

it('answers 503 draining on /readyz and still serves requests, a long-poll closing its connection, until the drain delay ends, then exits 0', async () => {
  const { token } = await g.caller({ sub: 'drainer', groups: ['maintainers'] });
  const exited = new Promise<number | null>((done) => bridge.once('exit', (code) => done(code)));
  const signalledAt = Date.now();
  bridge.kill('SIGTERM');

  let ready: Response;
  do ready = await fetch(`${base}/readyz`);
  while (ready.status === 200 && Date.now() - signalledAt < 1_000);
  expect(ready.status).toBe(503);
  expect(ready.headers.get('retry-after')).toBe('5');
  expect(await ready.json()).toEqual({ status: 'draining' });

  const started = await fetch(`${base}/v1/jobs/policy-check`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(readWebsite),
  });
  expect(started.status).toBe(202);
  expect(Date.now() - signalledAt).toBeLessThan(2_000);
  // A long-poll answered while draining (no worker runs the job: its wait ends) closes its
  // connection, so the client's next request finds another bridge.
  const { jobId } = (await started.json()) as { jobId: string };
  const waited = await fetch(`${base}/v1/jobs/${jobId}?wait=1`, { headers: { authorization: `Bearer ${token}` } });
  expect(waited.status).toBe(200);
  expect(((await waited.json()) as { status: string }).status).toBe('RUNNING');
  expect(waited.headers.get('connection')).toBe('close');

  expect(await exited).toBe(0);
  expect(Date.now() - signalledAt).toBeGreaterThanOrEqual(3_000);
});
