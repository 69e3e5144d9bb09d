// Temporal over TLS, mTLS and an API key, as Temporal Cloud is reached. `temporal server start-dev`
// speaks only plaintext, so a real HAProxy terminates TLS in front of the shared dev server: it
// requires a client certificate from the test CA and denies any request whose authorization
// header is not `Bearer <the test key>`, then forwards gRPC (h2) to the dev server. The bridge and
// a worker connect through it with the options of src/config/temporal-connection.ts; each
// missing or wrong credential is refused, and the bridge says so with a 503.
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NativeConnection } from '@temporalio/worker';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { buildApp } from '../../src/bridge/app.js';
import type { GatehouseConfig } from '../../src/config/load-config.js';
import { describeTemporalConnection, temporalConnectionOptions } from '../../src/config/temporal-connection.js';
import { freePort } from '../../src/dev/temporal-dev-server.js';
import { loadTestConfig, startGatehouse, testLogger, type Gatehouse } from '../helpers/gatehouse.js';
import { deployApi } from '../helpers/queries.js';
import { makeTestPki, type TestPki } from '../helpers/test-pki.js';

const apiKey = 'test-temporal-api-key-0123456789';
const log = (line: string) => appendFileSync(process.env.GATEHOUSE_TEST_LOG ?? '/dev/null', line);

let scratch: string;
let pki: TestPki;
let haproxy: ChildProcess;
let tlsAddress: string;
let h: Gatehouse;

/** The Temporal CLI's variables for a connection through the terminator; `change` replaces some. */
function tlsEnv(change: Record<string, string | undefined> = {}): Record<string, string> {
  const env: Record<string, string | undefined> = {
    TEMPORAL_TLS_SERVER_NAME: pki.serverName,
    TEMPORAL_TLS_CA: pki.caFile,
    TEMPORAL_TLS_CERT: pki.clientCertFile,
    TEMPORAL_TLS_KEY: pki.clientKeyFile,
    TEMPORAL_API_KEY: apiKey,
    ...change,
  };
  return Object.fromEntries(Object.entries(env).filter((entry): entry is [string, string] => entry[1] !== undefined));
}

async function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const open = await new Promise<boolean>((done) => {
      const socket = createConnection({ host: '127.0.0.1', port }, () => {
        socket.destroy();
        done(true);
      });
      socket.once('error', () => done(false));
    });
    if (open) return;
    if (haproxy.exitCode !== null) throw new Error(`haproxy exited with ${haproxy.exitCode}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`haproxy did not open 127.0.0.1:${port} within ${timeoutMs} ms`);
}

beforeAll(async () => {
  scratch = mkdtempSync(join(tmpdir(), 'gatehouse-temporal-tls-'));
  pki = makeTestPki(join(scratch, 'pki'));
  const port = await freePort();
  tlsAddress = `127.0.0.1:${port}`;
  const config = join(scratch, 'haproxy.cfg');
  writeFileSync(
    config,
    `global
  log stdout format raw local0
defaults
  mode http
  log global
  option httplog
  timeout connect 5s
  # Workers long-poll for about a minute.
  timeout client 5m
  timeout server 5m
frontend temporal_tls
  bind ${tlsAddress} ssl crt ${pki.serverPemFile} ca-file ${pki.caFile} verify required alpn h2
  http-request deny deny_status 401 unless { req.hdr(authorization) -m str "Bearer ${apiKey}" }
  default_backend temporal
backend temporal
  server dev ${inject('temporalAddress')} proto h2
`,
  );
  haproxy = spawn('haproxy', ['-db', '-f', config], { stdio: ['ignore', 'pipe', 'pipe'] });
  haproxy.stdout?.on('data', (d: Buffer) => log(`haproxy: ${d.toString()}`));
  haproxy.stderr?.on('data', (d: Buffer) => log(`haproxy: ${d.toString()}`));
  await waitForPort(port, 15_000);
  h = await startGatehouse({ env: { TEMPORAL_ADDRESS: tlsAddress, ...tlsEnv() } });
});

afterAll(async () => {
  await h?.close();
  if (haproxy !== undefined && haproxy.exitCode === null && haproxy.signalCode === null) {
    const gone = new Promise((done) => haproxy.once('exit', done));
    haproxy.kill('SIGTERM');
    await gone;
  }
  rmSync(scratch, { recursive: true, force: true });
});

/** A second bridge on the same issuer and queue, with other Temporal credentials. */
async function withBridge(
  env: Record<string, string>,
  fn: (app: FastifyInstance, config: GatehouseConfig) => Promise<void>,
) {
  const config = loadTestConfig({
    issuer: h.issuer,
    taskQueue: h.taskQueue,
    env: { TEMPORAL_ADDRESS: tlsAddress, ...env },
  });
  const app = await buildApp(config, { logger: testLogger() });
  try {
    await app.ready();
    await fn(app, config);
  } finally {
    await app.close();
  }
}

async function startJob(app: FastifyInstance) {
  const { token } = await h.caller({ groups: ['maintainers'] });
  return app.inject({
    method: 'POST',
    url: '/v1/jobs/policy-check',
    payload: deployApi,
    headers: { authorization: `Bearer ${token}` },
  });
}

/** What a refused connection looks like from outside: 503 on a start, and not ready. */
async function expectUnavailable(app: FastifyInstance) {
  const started = await startJob(app);
  expect(started.statusCode, started.body).toBe(503);
  expect(started.json().code).toBe('GATEHOUSE_TEMPORAL_UNAVAILABLE');
  expect(started.headers['retry-after']).toBeDefined();
  expect((await app.inject({ url: '/readyz' })).statusCode).toBe(503);
}

describe('Temporal over TLS with a client certificate and an API key', () => {
  it('lets the bridge start a job that a worker on the same options runs, and read it back', async () => {
    expect(describeTemporalConnection(h.config)).toBe(
      `${tlsAddress}/default: TLS (CA file, server name ${pki.serverName}, client certificate), API key`,
    );
    expect((await h.app.inject({ url: '/readyz' })).statusCode).toBe(200);
    const { token } = await h.caller({ groups: ['maintainers'] });
    const started = await h.app.inject({
      method: 'POST',
      url: '/v1/jobs/policy-check',
      payload: deployApi,
      headers: { authorization: `Bearer ${token}` },
    });
    expect(started.statusCode, started.body).toBe(202);
    const read = await h.app.inject({
      url: `/v1/jobs/${started.json().jobId}?wait=10`,
      headers: { authorization: `Bearer ${token}` },
    });
    expect(read.statusCode).toBe(200);
    expect(read.json()).toMatchObject({ status: 'COMPLETED', result: { decision: 'allow' } });
  });

  it('is refused without the client certificate: the bridge answers 503 and a worker cannot connect', async () => {
    const env = tlsEnv({ TEMPORAL_TLS_CERT: undefined, TEMPORAL_TLS_KEY: undefined });
    await withBridge(env, async (app, config) => {
      expect(config.temporalTls?.client).toBeUndefined();
      await expectUnavailable(app);
      // In TLS 1.3 the client finishes its side of the handshake before the server's alert
      // arrives, so the worker sees either that alert or the connection the server closed (as a
      // broken pipe, a reset, or a closed connection, depending on timing).
      await expect(NativeConnection.connect(temporalConnectionOptions(config))).rejects.toThrow(
        /CertificateRequired|broken pipe|connection reset|connection closed/i,
      );
    });
  });

  it('is denied by the terminator with a wrong API key', async () => {
    await withBridge(tlsEnv({ TEMPORAL_API_KEY: 'wrong-key' }), async (app, config) => {
      // The SDK reports UNAUTHENTICATED (HTTP 401): the bridge's own credentials are refused, no
      // fault of the caller's, so a 503 (logged with the gRPC status), and the bridge is not ready.
      const started = await startJob(app);
      expect(started.statusCode, started.body).toBe(503);
      expect(started.json().code).toBe('GATEHOUSE_TEMPORAL_UNAVAILABLE');
      expect(started.headers['retry-after']).toBe('5');
      expect((await app.inject({ url: '/readyz' })).statusCode).toBe(503);
      await expect(NativeConnection.connect(temporalConnectionOptions(config))).rejects.toThrow(/401 Unauthorized/);
    });
  });

  it('refuses a server whose name or CA does not match', async () => {
    await withBridge(tlsEnv({ TEMPORAL_TLS_SERVER_NAME: 'other.test' }), async (app, config) => {
      await expectUnavailable(app);
      await expect(NativeConnection.connect(temporalConnectionOptions(config))).rejects.toThrow(/NotValidForName/);
    });
    await withBridge(tlsEnv({ TEMPORAL_TLS_CA: pki.otherCaFile }), async (app, config) => {
      await expectUnavailable(app);
      await expect(NativeConnection.connect(temporalConnectionOptions(config))).rejects.toThrow(/UnknownIssuer/);
    });
  });
});
