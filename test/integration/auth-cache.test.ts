// The verified-token cache inside the bridge: a repeated token is answered from the cache (the
// hit/miss counter says so), and once the issuer withdraws the token's key, the background JWKS
// refresh drops the cache and the token is refused, although it was cached a moment before.
import { describe, expect, it, vi } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/bridge/app.js';
import { loadTestConfig, testLogger, uniqueName, useGatehouse } from '../helpers/gatehouse.js';

const h = useGatehouse({ worker: false });

/** An authenticated request that never reaches Temporal: auth passes, then the route is unknown. */
function call(app: FastifyInstance, token: string) {
  return app.inject({
    method: 'POST',
    url: '/v1/jobs/no-such-route',
    payload: {},
    headers: { authorization: `Bearer ${token}` },
  });
}

async function lookups(app: FastifyInstance): Promise<{ hit: number; miss: number }> {
  const metric = app.metrics.registry.getSingleMetric('gatehouse_token_cache_lookups_total');
  const values = (await metric!.get()).values;
  const of = (result: string) => values.find((v) => v.labels.result === result)?.value ?? 0;
  return { hit: of('hit'), miss: of('miss') };
}

function kidOf(token: string): string {
  return JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString()).kid;
}

describe('verified-token cache', () => {
  it('answers a repeated token from the cache, and counts hits and misses', async () => {
    const { token } = await h.caller();
    const before = await lookups(h.app);
    for (let i = 0; i < 3; i += 1) expect((await call(h.app, token)).json().code).toBe('GATEHOUSE_UNKNOWN_ROUTE');
    const after = await lookups(h.app);
    expect(after.miss - before.miss).toBe(1);
    expect(after.hit - before.hit).toBe(2);
    // Another token of the same subject is another entry: verified once, with its own claims.
    const { subject } = await h.caller();
    const reader = await h.issuer.mint({ sub: subject, groups: ['readers'] });
    const deployer = await h.issuer.mint({ sub: subject, groups: ['deployers'] });
    const deploy = (token: string) =>
      h.app.inject({
        method: 'POST',
        url: '/v1/jobs/deploy-check',
        payload: {},
        headers: { authorization: `Bearer ${token}`, 'idempotency-key': uniqueName('k') },
      });
    for (let i = 0; i < 2; i += 1) {
      expect((await deploy(reader)).statusCode).toBe(403);
      expect((await deploy(deployer)).statusCode).toBe(400); // allowed in; the empty body is refused
    }
    const metrics = await h.app.metrics.registry.metrics();
    expect(metrics).toMatch(/gatehouse_token_cache_entries \d+/);
  });

  it('refuses a cached token once the background refresh finds its key withdrawn', async () => {
    const config = loadTestConfig({
      issuer: h.issuer,
      taskQueue: h.taskQueue,
      overlay: { auth: { jwksRefresh: '300ms' } },
    });
    const app = await buildApp(config, { logger: testLogger() });
    let retired: string | undefined;
    try {
      const token = (await h.caller()).token;
      expect((await call(app, token)).statusCode).toBe(404);
      const cached = await lookups(app);
      expect((await call(app, token)).statusCode).toBe(404);
      expect((await lookups(app)).hit).toBe(cached.hit + 1);

      // The issuer rotates and stops publishing the key the token was signed with.
      retired = kidOf(token);
      await h.issuer.rotate('RS256');
      h.issuer.retire(retired);
      await vi.waitFor(
        async () => {
          const answer = await call(app, token);
          expect(answer.statusCode).toBe(401);
          expect(answer.json().code).toBe('GATEHOUSE_INVALID_TOKEN');
        },
        { timeout: 5_000, interval: 100 },
      );
      // Tokens signed with the published key still pass, and are cached again.
      const fresh = (await h.caller()).token;
      expect((await call(app, fresh)).statusCode).toBe(404);
      const hits = (await lookups(app)).hit;
      expect((await call(app, fresh)).statusCode).toBe(404);
      expect((await lookups(app)).hit).toBe(hits + 1);
    } finally {
      await app.close();
    }
  });
});
