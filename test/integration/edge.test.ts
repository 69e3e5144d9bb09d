// The edge through a real HAProxy (Debian's 2.6.12 here) in front of two real bridge replicas:
// identity-header stripping, JWT refusal at the edge, keep-alive safety after refused tokens,
// body and header caps, key rotation without a restart, rate limits and the internal stats. One
// HAProxy serves the whole file (and the whole run). The Argo frontend is tested with real Argo
// servers: test/argo/edge.test.ts.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Agent } from 'node:https';
import { base64url, SignJWT, UnsecuredJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { runCommand } from '../../src/command/program.js';
import { adminCommand, retries, startEdgeHarness, send, type EdgeHarness } from '../helpers/edge.js';
import { uniqueName } from '../helpers/gatehouse.js';
import { readWebsite } from '../helpers/queries.js';

let e: EdgeHarness;
beforeAll(async () => {
  e = await startEdgeHarness();
});
afterAll(async () => {
  await e?.close();
});

const json = { 'content-type': 'application/json' };
const body = JSON.stringify(readWebsite);
/** Requests that reached a bridge, not counting HAProxy's own health checks (Host: gatehouse). */
const seenCount = () => [...e.bridges[0].seen, ...e.bridges[1].seen].filter((h) => h.host !== 'gatehouse').length;
/** The headers a bridge replica received for the request with this X-Request-ID. */
const seenFor = (requestId: string) =>
  [...e.bridges[0].seen, ...e.bridges[1].seen].find((h) => h['x-request-id'] === requestId)!;
const rid = () => `edge-${crypto.randomUUID()}`;

function start(token: string, headers: Record<string, string> = {}, agent?: Agent) {
  return send(e.base, {
    method: 'POST',
    path: '/v1/jobs/policy-check',
    body,
    headers: { ...json, authorization: `Bearer ${token}`, ...headers },
    ...(agent === undefined ? {} : { agent }),
  });
}

describe('through the edge', () => {
  it('starts a job over TLS with a valid token, returning the request id, with the real client address in the memo', async () => {
    const token = await e.issuer.mint({ sub: uniqueName('edge') });
    const answer = await start(token, { 'x-request-id': 'edge-test-request-0001' });
    expect(answer.status).toBe(202);
    expect(answer.headers['x-request-id']).toBe('edge-test-request-0001');
    const headers = seenFor('edge-test-request-0001');
    expect(headers['x-auth-subject']).toMatch(/^edge-/);
    expect(headers['x-forwarded-proto']).toBe('https');
    const description = await e.bridges[0].app.temporal.client.workflow
      .getHandle(answer.json<{ jobId: string }>().jobId)
      .describe();
    expect(description.memo?.request).toMatchObject({
      clientAddress: '127.0.0.1',
      requestId: 'edge-test-request-0001',
    });
  });

  it('strips forged X-Auth-* and forwarding headers before the bridge sees them', async () => {
    const token = await e.issuer.mint({ sub: uniqueName('honest') });
    const id = rid();
    await start(token, {
      'x-request-id': id,
      'x-auth-subject': 'victim',
      'x-auth-groups': 'gatehouse-admins',
      'x-auth-whatever': 'x',
      'x-forwarded-for': '10.9.9.9',
      forwarded: 'for=10.9.9.9',
    });
    const headers = seenFor(id);
    expect(headers['x-auth-subject']).toMatch(/^honest-/);
    expect(headers['x-auth-groups']).toBeUndefined();
    expect(headers['x-auth-whatever']).toBeUndefined();
    expect(headers.forwarded).toBeUndefined();
    expect(headers['x-forwarded-for']).toBe('127.0.0.1');
  });

  it('generates a request id when the client sends none or a bad one', async () => {
    const answer = await send(e.base, { path: '/healthz', headers: { 'x-request-id': 'bad id!' } });
    expect(answer.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('refuses forged and invalid tokens at the edge, before the bridge', async () => {
    const sub = uniqueName('attacker');
    const stranger = await e.issuer.strangerKey('RS256');
    const realKid = JSON.parse(Buffer.from((await e.issuer.mint({ sub })).split('.')[0]!, 'base64url').toString())
      .kid as string;
    const none = new UnsecuredJWT({ sub, iss: e.issuer.issuer, aud: 'gatehouse' }).setExpirationTime('1h').encode();
    const noneWithKid = `${base64url.encode(JSON.stringify({ alg: 'none', kid: realKid }))}.${none.split('.')[1]}.`;
    const wrongKey = await new SignJWT({ sub })
      .setProtectedHeader({ alg: 'RS256', kid: realKid })
      .setIssuer(e.issuer.issuer)
      .setAudience('gatehouse')
      .setExpirationTime('1h')
      .sign(stranger.privateKey);
    const tokens: Record<string, string> = {
      'alg none': none,
      'alg none with a real kid': noneWithKid,
      malformed: 'not.a.token',
      'wrong key': wrongKey,
      expired: await e.issuer.mint({ sub }, { expiresIn: -120 }),
      'not yet valid': await e.issuer.mint({ sub }, { notBefore: 600 }),
      'wrong issuer': await e.issuer.mint({ sub }, { issuer: 'https://evil.example' }),
      'wrong audience': await e.issuer.mint({ sub }, { audience: 'other' }),
      'ES256 alg on an RS256 kid': `${base64url.encode(JSON.stringify({ alg: 'ES256', kid: realKid }))}.${wrongKey.split('.')[1]}.${wrongKey.split('.')[2]}`,
    };
    for (const [name, token] of Object.entries(tokens)) {
      const before = seenCount();
      const answer = await start(token);
      expect(answer.status, name).toBe(401);
      expect(answer.json<{ code: string }>().code, name).toBe('GATEHOUSE_INVALID_TOKEN');
      expect(seenCount(), `${name} reached the bridge`).toBe(before);
    }
    const missing = await send(e.base, { method: 'POST', path: '/v1/jobs/policy-check', body, headers: json });
    expect(missing.status).toBe(401);
    expect(missing.headers['www-authenticate']).toBe('Bearer realm="gatehouse"');
  });

  it('skips jwt_verify on a kept-alive connection only for the very token that passed on it', async () => {
    const token = await e.issuer.mint({ sub: uniqueName('kept') });
    const [header, payload, signature] = token.split('.') as [string, string, string];
    const claims = JSON.parse(new TextDecoder().decode(base64url.decode(payload))) as Record<string, unknown>;
    const forgeries: Record<string, string> = {
      'another subject under its signature': `${header}.${base64url.encode(JSON.stringify({ ...claims, sub: uniqueName('victim') }))}.${signature}`,
      'its payload with a bad signature': `${header}.${payload}.${signature.slice(0, -4)}AAAA`,
    };
    for (const [name, forged] of Object.entries(forgeries)) {
      // One connection: the real token passes (and again, from the connection's cache), then the
      // forgery on that same connection is verified and refused, closing it.
      const agent = new Agent({ keepAlive: true, maxSockets: 1, rejectUnauthorized: false });
      try {
        const whoami = (bearer: string) =>
          send(e.base, { path: '/v1/whoami', headers: { authorization: `Bearer ${bearer}` }, agent });
        expect((await whoami(token)).status, name).toBe(200);
        const again = await whoami(token);
        expect([again.status, again.reused], name).toEqual([200, true]);
        const before = seenCount();
        const refused = await whoami(forged);
        expect([refused.status, refused.reused], name).toEqual([401, true]);
        expect(refused.json<{ code: string }>().code, name).toBe('GATEHOUSE_INVALID_TOKEN');
        expect(seenCount(), `${name} reached the bridge`).toBe(before);
      } finally {
        agent.destroy();
      }
    }
  });

  it('verifies a token again on its connection once its kid maps to another key (a runtime set map)', async () => {
    const token = await e.issuer.mint({ sub: uniqueName('remapped') });
    const { kid } = JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString()) as { kid: string };
    const rsMap = join(e.env.EDGE_KEYS_DIR, 'kid-rs256.map');
    const keyOf = (map: string, wanted?: string) =>
      readFileSync(map, 'utf8')
        .split('\n')
        .map((line) => line.trim().split(/\s+/))
        .find(([name]) => name !== undefined && name !== '' && (wanted === undefined || name === wanted))![1]!;
    const own = keyOf(rsMap, kid);
    // Another key HAProxy has loaded: the issuer's ES256 key, which cannot verify an RS256 signature.
    const other = keyOf(join(e.env.EDGE_KEYS_DIR, 'kid-es256.map'));
    const agent = new Agent({ keepAlive: true, maxSockets: 1, rejectUnauthorized: false });
    const whoami = () => send(e.base, { path: '/v1/whoami', headers: { authorization: `Bearer ${token}` }, agent });
    try {
      expect((await whoami()).status).toBe(200);
      const cached = await whoami();
      expect([cached.status, cached.reused]).toEqual([200, true]);
      await adminCommand(e.edge.adminSocket, `set map ${rsMap} ${kid} ${other}`);
      const remapped = await whoami();
      expect([remapped.status, remapped.reused]).toEqual([401, true]);
    } finally {
      agent.destroy();
      await adminCommand(e.edge.adminSocket, `set map ${rsMap} ${kid} ${own}`);
    }
    expect((await send(e.base, { path: '/v1/whoami', headers: { authorization: `Bearer ${token}` } })).status).toBe(
      200,
    );
  });

  it('accepts an audience array that names us, and an ES256 token', async () => {
    expect(
      (await start(await e.issuer.mint({ sub: uniqueName('aud') }, { audience: ['x', 'y', 'gatehouse'] }))).status,
    ).toBe(202);
    expect((await start(await e.issuer.mint({ sub: uniqueName('es') }, { alg: 'ES256' }))).status).toBe(202);
  });

  it('accepts a token whose nbf has passed (most IdPs set one), and refuses one whose nbf is ahead', async () => {
    // 2.6.12's sub() saturates when it takes a literal from a negative value: an nbf rule written
    // as nbf - now - 30 refused every token with a past nbf.
    expect((await start(await e.issuer.mint({ sub: uniqueName('nbf') }, { notBefore: -120 }))).status).toBe(202);
    expect((await start(await e.issuer.mint({ sub: uniqueName('nbf') }, { notBefore: -2 }))).status).toBe(202);
    expect((await start(await e.issuer.mint({ sub: uniqueName('nbf') }, { notBefore: 120 }))).status).toBe(401);
  });

  it.each(['RS256', 'ES256'] as const)(
    'never costs another client its keep-alive connection after a refused %s token',
    async (alg) => {
      const keepAlive = new Agent({ keepAlive: true, maxSockets: 1, rejectUnauthorized: false });
      const good = await e.issuer.mint({ sub: uniqueName('steady') });
      const stranger = await e.issuer.strangerKey(alg);
      const bad = await new SignJWT({ sub: 'x' })
        .setProtectedHeader({ alg, kid: stranger.kid })
        .setIssuer(e.issuer.issuer)
        .setAudience('gatehouse')
        .setExpirationTime('1h')
        .sign(stranger.privateKey);
      const realKid = JSON.parse(
        Buffer.from((await e.issuer.mint({ sub: 'x' }, { alg })).split('.')[0]!, 'base64url').toString(),
      ).kid as string;
      const badSignature = await new SignJWT({ sub: 'x' })
        .setProtectedHeader({ alg, kid: realKid })
        .setIssuer(e.issuer.issuer)
        .setAudience('gatehouse')
        .setExpirationTime('1h')
        .sign(stranger.privateKey);
      try {
        expect(
          (await send(e.base, { path: '/v1/jobs', headers: { authorization: `Bearer ${good}` }, agent: keepAlive }))
            .status,
        ).toBe(200);
        for (let round = 0; round < 10; round += 1) {
          const refused = await Promise.all(
            [bad, badSignature].map((token) =>
              send(e.base, { path: '/v1/jobs', headers: { authorization: `Bearer ${token}` } }),
            ),
          );
          expect(refused.map((r) => r.status)).toEqual([401, 401]);
          const steady = await send(e.base, {
            path: '/v1/jobs',
            headers: { authorization: `Bearer ${good}` },
            agent: keepAlive,
          });
          expect(steady.status).toBe(200);
          expect(steady.reused).toBe(true);
        }
      } finally {
        keepAlive.destroy();
      }
    },
  );

  it('refuses oversized bodies and headers at the edge', async () => {
    const token = await e.issuer.mint({ sub: uniqueName('big') });
    const before = seenCount();
    const big = await send(e.base, {
      method: 'POST',
      path: '/v1/jobs/policy-check',
      body: 'x'.repeat(e.config.limits.maxBodyBytes + 1),
      headers: { ...json, authorization: `Bearer ${token}` },
    });
    expect(big.status).toBe(413);
    expect(big.json<{ code: string }>().code).toBe('GATEHOUSE_BODY_TOO_LARGE');
    // HAProxy 2.6 answers a header section over tune.bufsize with 400 (it has no 431). Its H1 layer
    // answers before any proxy rule runs, so the body is HAProxy's own, not problem+json.
    const hugeHeader = await send(e.base, { path: '/healthz', headers: { 'x-padding': 'y'.repeat(40_000) } });
    expect(hugeHeader.status).toBe(400);
    expect(seenCount()).toBe(before);
    // A real, large token (a big groups claim) still fits.
    const fat = await e.issuer.mint({
      sub: uniqueName('fat'),
      groups: Array.from({ length: 300 }, (_, i) => `group-with-a-long-name-${i}`),
    });
    expect(fat.length).toBeGreaterThan(9_000);
    expect((await start(fat)).status).toBe(202);
  });

  it('keeps the bridge metrics internal, however the path is spelled', async () => {
    expect((await send(e.base, { path: '/metrics' })).status).toBe(404);
    for (const path of ['/%6detrics', '/%6Detrics', '//metrics', '/x/../metrics', '/./metrics', '/metrics/.']) {
      const answer = await send(e.base, { path });
      expect(answer.status, path).toBe(400);
      expect(answer.json<{ code: string }>().code, path).toBe('GATEHOUSE_BAD_REQUEST');
    }
  });

  it('refuses paths that the bridge could read otherwise than the edge: encoded, doubled or dotted', async () => {
    const before = seenCount();
    for (const path of [
      '/%761/jobs',
      '/v1/%6aobs',
      '//v1//jobs',
      '/v1/webhooks/../jobs',
      '/v1/./jobs',
      '/v1%2Fjobs',
      '/healthz%00',
    ]) {
      const answer = await send(e.base, { path });
      expect(answer.status, path).toBe(400);
      expect(answer.json<{ code: string }>().code, path).toBe('GATEHOUSE_BAD_REQUEST');
    }
    expect(seenCount()).toBe(before);
  });

  it('requires a token for every path but an exact public list', async () => {
    for (const path of ['/healthz', '/readyz', '/docs', '/docs/static/swagger-initializer.js']) {
      expect((await send(e.base, { path })).status, path).toBeLessThan(400);
    }
    // The OpenAPI document lists what the caller may use: it is not public (src/bridge/http/openapi.ts).
    for (const path of ['/', '/anything', '/v2/jobs', '/healthz/x', '/openapi.json', '/docs/json', '/docs/yaml']) {
      expect((await send(e.base, { path })).status, path).toBe(401);
    }
    // Webhook paths skip the token for POST deliveries only; the delivery log is an API.
    expect((await send(e.base, { method: 'GET', path: '/v1/webhooks/github' })).status).toBe(401);
    expect((await send(e.base, { path: '/v1/webhooks/deliveries/abc' })).status).toBe(401);
    for (const path of ['/v1/webhooks/deliveries', '/v1/webhooks/deliveries/d0mwrupgih8e7959a9b972/replay']) {
      expect((await send(e.base, { method: 'POST', path })).status, path).toBe(401);
      expect((await send(e.base, { path })).status, path).toBe(401);
    }
  });

  it('accepts a rotated IdP key after a sync, reloading with no failed request', async () => {
    const steadyToken = await e.issuer.mint({ sub: uniqueName('during-reload') });
    const newKid = await e.issuer.rotate('RS256');
    const rotated = await e.issuer.mint({ sub: uniqueName('rotated') }, { kid: newKid });
    expect((await start(rotated)).status).toBe(401);

    let running = true;
    const statuses: number[] = [];
    const retriesBefore = retries.count;
    // The load asks the bridge who the caller is: verified by the edge and answered without
    // Temporal, so a non-200 can only be the reload's (a list of jobs could also time out on a
    // busy Temporal, which is not what this test is about).
    const load = (async () => {
      const agent = new Agent({ keepAlive: true, maxSockets: 4, rejectUnauthorized: false });
      while (running) {
        const answer = await send(e.base, {
          path: '/v1/whoami',
          headers: { authorization: `Bearer ${steadyToken}` },
          agent,
        }).catch(() => ({ status: -1 }));
        statuses.push(answer.status);
        // About 50 a second: under the edge's per-caller rate (EDGE_SUBJECT_RATE) for the whole test.
        await new Promise((r) => setTimeout(r, 20));
      }
      agent.destroy();
    })();
    const result = await e.sync();
    expect(result).toMatchObject({ changed: true, reloaded: true });
    expect(result.kids).toContain(newKid);
    await new Promise((r) => setTimeout(r, 1_500));
    running = false;
    await load;
    expect(statuses.length).toBeGreaterThan(10);
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
    // Idle keep-alive connections closed by the old worker are retried once, as browsers do.
    console.info(
      `rotation: ${statuses.length} requests during the reload, ${retries.count - retriesBefore} retried on a closed keep-alive connection`,
    );
    const afterSync = await start(rotated);
    expect(afterSync.status, afterSync.body).toBe(202);
    const again = await e.sync();
    expect(again).toMatchObject({ changed: false, reloaded: false });
    e.issuer.retire(newKid);
  });
});

describe('rate limit per verified subject', () => {
  it('answers 429 with Retry-After and a problem body past the limit, and recovers when the window passes', async () => {
    const token = await e.issuer.mint({ sub: uniqueName('greedy') });
    const other = await e.issuer.mint({ sub: uniqueName('bystander') });
    const agent = new Agent({ keepAlive: true, maxSockets: 8, rejectUnauthorized: false });
    // An unknown route is answered by the bridge without touching Temporal: cheap to repeat.
    const hit = (t: string) =>
      send(e.base, {
        method: 'POST',
        path: '/v1/jobs/no-such-route',
        body: '{}',
        headers: { ...json, authorization: `Bearer ${t}` },
        agent,
      });
    try {
      const answers = [];
      for (let batch = 0; batch < 40; batch += 1)
        answers.push(...(await Promise.all(Array.from({ length: 8 }, () => hit(token)))));
      const limited = answers.filter((a) => a.status === 429);
      expect(answers.filter((a) => a.status === 404).length).toBeGreaterThanOrEqual(290);
      expect(limited.length).toBeGreaterThan(0);
      expect(limited[0]!.headers['retry-after']).toBe('10');
      expect(limited[0]!.json<{ code: string }>().code).toBe('GATEHOUSE_RATE_LIMITED');
      expect((await hit(other)).status).toBe(404); // another subject is not limited
      await new Promise((r) => setTimeout(r, 10_500));
      expect((await hit(token)).status).toBe(404);
    } finally {
      agent.destroy();
    }
  }, 30_000);
});

describe('internal stats', () => {
  it("serves HAProxy's Prometheus metrics on the internal port only", async () => {
    const metrics = await fetch(`http://${e.env.EDGE_STATS_BIND}/metrics`);
    expect(metrics.status).toBe(200);
    expect(await metrics.text()).toMatch(/haproxy_backend_active_servers\{proxy="bridges"\} 2/);
  });
});

describe('the gatehouse command through the edge', () => {
  /** Runs the command in-process against the edge over TLS, trusting `ca` (the profile's CA file). */
  async function gatehouse(argv: string[], env: Record<string, string>) {
    let stdout = '';
    let stderr = '';
    const code = await runCommand(argv, {
      stdout: { write: (chunk: string) => ((stdout += chunk), true) } as unknown as NodeJS.WritableStream,
      stderr: { write: (chunk: string) => ((stderr += chunk), true) } as unknown as NodeJS.WritableStream,
      env: {
        XDG_CONFIG_HOME: mkdtempSync(join(tmpdir(), 'gatehouse-xdg-')),
        GATEHOUSE_URL: `https://${e.base.host}:${e.base.port}`,
        ...env,
      },
    });
    return { code, stdout, stderr };
  }

  it('runs a policy-check with --wait over TLS with the profile CA, and refuses an edge it cannot verify', async () => {
    const sub = uniqueName('cli');
    const token = await e.issuer.mint({ sub, groups: [] });
    const ca = join(dirname(e.env.EDGE_CERT), 'edge.crt');
    const input = join(mkdtempSync(join(tmpdir(), 'gatehouse-cli-')), 'input.json');
    writeFileSync(input, body);
    const ran = await gatehouse(['run', 'policy-check', '--input', input, '--wait', '--json'], {
      GATEHOUSE_TOKEN: token,
      GATEHOUSE_CA: ca,
    });
    expect(ran.code, ran.stderr).toBe(0);
    expect(JSON.parse(ran.stdout)).toMatchObject({ status: 'COMPLETED', route: 'policy-check' });
    const me = await gatehouse(['whoami', '--json'], { GATEHOUSE_TOKEN: token, GATEHOUSE_CA: ca });
    expect(JSON.parse(me.stdout)).toMatchObject({ subject: sub, issuer: e.issuer.issuer });

    const untrusted = await gatehouse(['whoami'], { GATEHOUSE_TOKEN: token });
    expect(untrusted.code).toBe(5);
    expect(untrusted.stderr).toContain('GATEHOUSE_CLI_UNREACHABLE');
  });
});

// Last in the file: it kills a replica.
describe('replica failure', () => {
  it('loses no request a client could not safely retry, and starts no workflow twice, when a replica dies under load', async () => {
    const callers = await Promise.all(
      Array.from({ length: 16 }, async (_, i) => ({ sub: `load-${i}-${crypto.randomUUID().slice(0, 6)}`, token: '' })),
    );
    for (const caller of callers) caller.token = await e.issuer.mint({ sub: caller.sub });
    const agent = new Agent({ keepAlive: true, maxSockets: 16, rejectUnauthorized: false });
    const answersByKey = new Map<string, Array<{ jobId: string; runId: string }>>();
    const failures: string[] = [];
    let firstTryFailures = 0;

    // A client that retries with the same Idempotency-Key: safe, because the key decides the job.
    const startWithRetry = async (token: string, key: string) => {
      for (let attempt = 0; attempt < 6; attempt += 1) {
        const answer = await send(e.base, {
          method: 'POST',
          path: '/v1/jobs/policy-check',
          body,
          agent,
          headers: { ...json, authorization: `Bearer ${token}`, 'idempotency-key': key },
        }).catch((error: unknown) => ({ status: -1, error }));
        if (answer.status === 202 && 'json' in answer) {
          const list = answersByKey.get(key) ?? [];
          list.push(answer.json<{ jobId: string; runId: string }>());
          answersByKey.set(key, list);
          return;
        }
        if (attempt === 0) firstTryFailures += 1;
        if (![-1, 502, 503, 504].includes(answer.status)) failures.push(`${key}: ${answer.status}`);
        await new Promise((r) => setTimeout(r, 200 * (attempt + 1)));
      }
      failures.push(`${key}: gave up`);
    };

    const load = Promise.all(
      callers.map(async (caller) => {
        for (let n = 0; n < 12; n += 1) await startWithRetry(caller.token, `${caller.sub}-${n}`);
      }),
    );
    // Kill replica 1 once a quarter of the starts are in, while the rest are in flight.
    await vi.waitFor(() => expect(answersByKey.size).toBeGreaterThanOrEqual(48), { timeout: 20_000, interval: 10 });
    const servedBeforeKill = e.bridges[0].seen.filter((h) => h['idempotency-key'] !== undefined).length;
    const doneAtKill = answersByKey.size;
    const victim = e.bridges[0].app;
    victim.server.closeAllConnections();
    await victim.close();
    await load;
    expect(servedBeforeKill).toBeGreaterThan(0);
    expect(doneAtKill).toBeLessThan(16 * 12);
    agent.destroy();

    expect(failures).toEqual([]);
    expect(answersByKey.size).toBe(16 * 12);
    for (const [key, answers] of answersByKey) {
      expect(new Set(answers.map((a) => `${a.jobId}/${a.runId}`)).size, key).toBe(1);
    }
    expect(new Set([...answersByKey.values()].map((a) => a[0]!.jobId)).size).toBe(16 * 12);
    console.info(
      `replica failure: ${16 * 12} starts, killed after ${doneAtKill} (replica 1 had served ${servedBeforeKill}), ${firstTryFailures} needed a client retry`,
    );
  }, 60_000);
});
