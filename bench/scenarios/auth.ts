// (3) An authenticated cheap request: POST /v1/jobs/no-such-route (the token verified, then 404,
// no Temporal call) against /healthz, with one token throughout (warm: what the verified-token
// cache serves) and a new token per request (cold), in interleaved rounds.
import type { BenchContext } from '../context.js';
import { cannon } from '../load.js';
import { combine, measure, type Combined, type Measured } from '../measure.js';
import { memoryPoint } from '../memory.js';
import { referenceRow, targetRow, type TargetRow } from '../targets.js';

export interface AuthFigures {
  healthz: Combined;
  warm: Combined;
  cold: Combined;
}

function authLoads(ctx: BenchContext) {
  const cheapUrl = `${ctx.bridge.url}/v1/jobs/no-such-route`; // authenticated, then 404: no Temporal call
  return {
    healthz: (count: number, budgetMs: number) =>
      cannon({ url: `${ctx.bridge.url}/healthz`, amount: count, budgetMs, expect: [200] }),
    /** With `tokens`, each request carries the next one; without, the bench's one token. */
    cheap: (count: number, budgetMs: number, tokens: string[]) => {
      let next = 0;
      return cannon({
        url: cheapUrl,
        method: 'POST',
        body: '{}',
        headers: ctx.auth,
        amount: count,
        budgetMs,
        expect: [404],
        ...(tokens.length === 0
          ? {}
          : {
              requests: [
                {
                  setupRequest: (request) => ({
                    ...request,
                    headers: { ...request.headers, authorization: `Bearer ${tokens[next++ % tokens.length]}` },
                  }),
                },
              ],
            }),
      });
    },
  };
}

export async function warmUpAuth(ctx: BenchContext): Promise<void> {
  const load = authLoads(ctx);
  await load.healthz(ctx.knobs.n(300), 30_000);
  await load.cheap(ctx.knobs.n(300), 30_000, []);
}

export async function measureAuth(ctx: BenchContext): Promise<AuthFigures> {
  const { n, rounds } = ctx.knobs;
  const load = authLoads(ctx);
  const coldCount = n(600);
  const mintStarted = performance.now();
  const coldTokens: string[] = [];
  for (let i = 0; i < rounds * coldCount + 64; i += 1) {
    coldTokens.push(await ctx.issuer.mint({ sub: `bench-cold-${i}` }, { alg: 'RS256', expiresIn: 7200 }));
  }
  ctx.report.say(
    `minted ${coldTokens.length} RS256 tokens for the cold runs in ${((performance.now() - mintStarted) / 1000).toFixed(1)} s`,
  );
  const tokens = { healthz: [] as Measured[], warm: [] as Measured[], cold: [] as Measured[] };
  for (let round = 1; round <= rounds; round += 1) {
    tokens.healthz.push(await measure(ctx, 'auth: /healthz', ['bridge'], () => load.healthz(n(3000), 30_000), round));
    tokens.warm.push(
      await measure(ctx, 'auth: 404, same token', ['bridge'], () => load.cheap(n(3000), 30_000, []), round),
    );
    const batch = coldTokens.slice((round - 1) * coldCount, round * coldCount + 32);
    tokens.cold.push(
      await measure(ctx, 'auth: 404, new token each', ['bridge'], () => load.cheap(coldCount, 30_000, batch), round),
    );
  }
  memoryPoint(ctx, 'afterAuth');
  return { healthz: combine(tokens.healthz), warm: combine(tokens.warm), cold: combine(tokens.cold) };
}

export function authTargets(t: AuthFigures): TargetRow[] {
  return [
    targetRow(
      'authenticated 404, warm token / /healthz (req/s)',
      `${t.warm.throughput.toFixed(0)} vs ${t.healthz.throughput.toFixed(0)}/s`,
      t.warm.throughput / t.healthz.throughput,
      '≥ 0.8x',
      (x) => x >= 0.8,
    ),
    referenceRow(
      'authenticated 404, new token each / /healthz',
      `${t.cold.throughput.toFixed(0)} vs ${t.healthz.throughput.toFixed(0)}/s`,
      t.cold.throughput / t.healthz.throughput,
    ),
  ];
}
