// The new paths' price (bench/README.md, "People"): what browser sign-in costs where people meet
// Gatehouse, against baselines measured in the same run, on a stack of its own: the development
// issuer as the IdP, one bridge process with sign-in (the dev stack's config, src/dev/
// dev-sign-in-config.ts) and the edge in front of it, a person signed in by walking the sign-in.
// - Edge CPU: GET /v1/whoami (answered by the bridge without Temporal) with the session cookie
//   against a bearer token (RS256, and ES256 as the session is), each verified by HAProxy's
//   jwt_verify (haproxy.cfg sections 6 and 6b); CPU of HAProxy's workers per request, in rounds.
// - Refresh: the same request with an expired session and the refresh cookie, which the edge
//   renews by one Lua call to the bridge (people.lua gh_refresh; the bridge asks the IdP), against
//   the same request with a valid session; a few browsers, one request at a time each.
// - The console's job page in Chromium (./people-page.ts).
import { Agent } from 'node:https';
import { join } from 'node:path';
import { decodeJwt, decodeProtectedHeader, importJWK, SignJWT, type JWK } from 'jose';
import { sessionJwksPath } from '../../src/bridge/sign-in/sign-in-plugin.js';
import { startDevIssuer, type DevIssuer } from '../../src/dev/dev-issuer.js';
import { devSignIn } from '../../src/dev/dev-sign-in-config.js';
import { loopbackEdgeEnv, startEdge } from '../../src/dev/edge-process.js';
import { freePort } from '../../src/dev/temporal-dev-server.js';
import { edgeConfigFiles } from '../../src/edge/edge-files.js';
import { syncJwks } from '../../src/edge/sync-jwks.js';
import { Browser } from '../../test/helpers/sign-in.js';
import { call, cannon, type Run } from '../load.js';
import { quiet } from '../measure.js';
import { childPids, cpuMsOf } from '../proc.js';
import { percentile } from '../stats.js';
import { ms, referenceRow, targetRow, type TargetRow } from '../targets.js';
import { measureJobPage, pageTargets, type PageFigures } from './people-page.js';

export interface PeopleContext {
  dir: string;
  rounds: number;
  /** Requests per run of the edge CPU comparison. */
  requests: number;
  /** Requests per browser and round of the refresh comparison. */
  refreshes: number;
  /** Fresh visits of the console's job page. */
  visits: number;
  /** The policy-check job's input, as JSON. */
  query: string;
  /** A bridge process as the bench runs it, with these variables added. */
  startBridge(env: Record<string, string>): Promise<{ pid: number; url: string; port: number; stop(): Promise<void> }>;
  say(line: string): void;
  note(text: string): void;
}

type Credential = 'session' | 'sessionAlone' | 'bearerRs256' | 'bearerEs256';
const credentialLabels: Record<Credential, string> = {
  session: 'session cookie',
  sessionAlone: 'session cookie alone',
  bearerRs256: 'bearer token, RS256',
  bearerEs256: 'bearer token, ES256',
};

export interface CredentialFigures {
  ok: number;
  answered: number;
  throughput: number;
  p50: number;
  p99: number;
  /** CPU time per answered request, ms. */
  edgeCpuMs: number;
  bridgeCpuMs: number;
  /** The size of the credential's header value (Cookie or Authorization), bytes. */
  headerBytes: number;
}

export interface LatencyFigures {
  requests: number;
  ok: number;
  p50: number;
  p99: number;
  edgeCpuMs: number;
  bridgeCpuMs: number;
}

export interface PeopleResult {
  edgeCpu?: Record<Credential, CredentialFigures>;
  refresh?: { refreshed: LatencyFigures; valid: LatencyFigures; idpRefreshes: number; browsers: number };
  jobPage?: PageFigures;
}

const person = 'bench-person';
const groups = ['gatehouse-admins'];
const cookieNames = { session: '__Host-gh_session', refresh: '__Host-gh_refresh' };

export async function measurePeople(ctx: PeopleContext): Promise<PeopleResult> {
  const stack = await startStack(ctx);
  const result: PeopleResult = {};
  try {
    const cpu = () => ({ edge: cpuMsOf(stack.edgePids()), bridge: cpuMsOf([stack.bridgePid]) });
    try {
      result.edgeCpu = await measureEdgeCpu(ctx, stack, cpu);
    } catch (error) {
      ctx.note(`people: edge CPU not measured: ${String(error)}`);
    }
    try {
      result.refresh = await measureRefresh(ctx, stack, cpu);
    } catch (error) {
      ctx.note(`people: refresh not measured: ${String(error)}`);
    }
    try {
      result.jobPage = await measureJobPage({ ...ctx, origin: stack.origin, person, groups: groups.join(',') }, () =>
        signIn(stack.origin),
      );
    } catch (error) {
      ctx.note(`people: the console's job page not measured: ${String(error)}`);
    }
    return result;
  } finally {
    await stack.stop();
  }
}

interface Stack {
  origin: string;
  issuer: DevIssuer;
  bridgePid: number;
  edgePids(): number[];
  /** The session keys (private JWKs), to make an expired copy of a session. */
  sessionKeys: JWK[];
  stop(): Promise<void>;
}

/** The dev issuer with its sign-in, a bridge with sign-in at the edge's origin, and the edge. */
async function startStack(ctx: PeopleContext): Promise<Stack> {
  const stops: Array<() => Promise<void>> = [];
  const stop = async () => {
    for (const s of stops.reverse()) await s().catch(() => {});
  };
  try {
    const issuer = await startDevIssuer({ allowSignIn: true });
    stops.push(() => issuer.close());
    const dir = join(ctx.dir, 'people');
    const httpsBind = `127.0.0.1:${await freePort()}`;
    const origin = `https://${httpsBind}`;
    const signInConfig = await devSignIn('config/gatehouse.yaml', origin, dir);
    const bridge = await ctx.startBridge({
      ...signInConfig.env,
      GATEHOUSE_JWT_ISSUER: issuer.issuer,
      GATEHOUSE_JWT_AUDIENCE: issuer.audience,
    });
    stops.push(() => bridge.stop());
    // Rates are lifted so the edge measures cost, not its limits.
    const edgeEnv = await loopbackEdgeEnv({
      dir,
      issuer,
      bridges: [`127.0.0.1:${bridge.port}`, `127.0.0.1:${bridge.port}`],
      overrides: {
        EDGE_HTTPS_BIND: httpsBind,
        EDGE_PUBLIC_ORIGIN: origin,
        EDGE_SUBJECT_RATE: '100000000',
        EDGE_PERSON_RATE: '100000000',
      },
    });
    await syncJwks({
      jwksUrl: issuer.jwksUrl,
      sessionJwksUrl: `${bridge.url}${sessionJwksPath}`,
      keysDir: edgeEnv.EDGE_KEYS_DIR,
      configFiles: edgeConfigFiles(edgeEnv),
      retainSeconds: 3600,
      env: { ...process.env, ...edgeEnv },
    });
    const edge = await startEdge(edgeEnv);
    stops.push(() => edge.stop());
    const { env: signInBridgeEnv } = signInConfig;
    const sessionKeys = (JSON.parse(signInBridgeEnv.GATEHOUSE_DEV_SESSION_KEYS!) as { keys: JWK[] }).keys;
    return {
      origin,
      issuer,
      bridgePid: bridge.pid,
      edgePids: () => childPids(edge.process.pid!),
      sessionKeys,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** A person signed in by walking the sign-in at the dev issuer; their cookies and subject. */
async function signIn(origin: string): Promise<{ cookies: Map<string, string>; session: string; refresh: string }> {
  const browser = new Browser();
  const page = await browser.signIn(`${origin}/ui/jobs`, person, groups);
  const cookies = browser.cookies(origin);
  const session = cookies.get(cookieNames.session);
  const refresh = cookies.get(cookieNames.refresh);
  if (page.status !== 200 || session === undefined || refresh === undefined) {
    throw new Error(`the sign-in ended at ${page.url} with ${page.status}, cookies: ${[...cookies.keys()].join(', ')}`);
  }
  return { cookies, session, refresh };
}

const cookieHeader = (cookies: Map<string, string>) =>
  [...cookies].map(([name, value]) => `${name}=${value}`).join('; ');

async function measureEdgeCpu(
  ctx: PeopleContext,
  stack: Stack,
  cpu: () => { edge: number; bridge: number },
): Promise<Record<Credential, CredentialFigures>> {
  const url = `${stack.origin}/v1/whoami`;
  const runs: Record<Credential, Array<Run & { edgeCpuMs: number; bridgeCpuMs: number }>> = {
    session: [],
    sessionAlone: [],
    bearerRs256: [],
    bearerEs256: [],
  };
  const headerBytes: Partial<Record<Credential, number>> = {};
  for (let round = 1; round <= ctx.rounds; round += 1) {
    // A fresh sign-in each round: the session (10 min) must not come within the refresh margin.
    const { cookies } = await signIn(stack.origin);
    const { sub } = decodeJwt(cookies.get(cookieNames.session)!);
    const mint = (alg: 'RS256' | 'ES256') => stack.issuer.mint({ sub, groups }, { alg, expiresIn: 3600 });
    // A browser sends every cookie it holds for the site (the refresh and logout cookies too); a
    // token client sends the token alone. The session cookie alone says what the others add.
    const headers: Record<Credential, Record<string, string>> = {
      session: { cookie: cookieHeader(cookies) },
      sessionAlone: { cookie: `${cookieNames.session}=${cookies.get(cookieNames.session)!}` },
      bearerRs256: { authorization: `Bearer ${await mint('RS256')}` },
      bearerEs256: { authorization: `Bearer ${await mint('ES256')}` },
    };
    // The order turns each round, so no credential always follows the sign-in.
    const credentials = Object.keys(headers) as Credential[];
    const order = [
      ...credentials.slice((round - 1) % credentials.length),
      ...credentials.slice(0, (round - 1) % credentials.length),
    ];
    for (const credential of order) {
      // Each is the same person to the bridge, and the session is not renewed on the way.
      const check = await call(url, { headers: headers[credential], timeoutMs: 10_000 });
      const principal = check.status === 200 ? (JSON.parse(check.body) as { principal?: string }).principal : '';
      if (check.status !== 200 || !String(principal).endsWith(`#${sub}`) || check.headers['set-cookie'] !== undefined) {
        throw new Error(
          `/v1/whoami with a ${credentialLabels[credential]} answered ${check.status}: ${check.body.slice(0, 200)}`,
        );
      }
      headerBytes[credential] = Buffer.byteLength(Object.values(headers[credential]).join(''));
      // What the sign-in and the check left running is no part of this credential's CPU.
      await quiet(5_000, [...stack.edgePids(), stack.bridgePid]);
      const before = cpu();
      const run = await cannon({
        url,
        headers: headers[credential],
        amount: ctx.requests,
        budgetMs: 60_000,
        expect: [200],
      });
      const after = cpu();
      const per = (spent: number) => spent / Math.max(1, run.answered);
      const measured = { ...run, edgeCpuMs: after.edge - before.edge, bridgeCpuMs: after.bridge - before.bridge };
      runs[credential].push(measured);
      const trouble = run.failed + run.timedOut > 0 ? `  [${run.failed} failed, ${run.timedOut} timed out]` : '';
      ctx.say(
        `${`people: /v1/whoami, ${credentialLabels[credential]} r${round}/${ctx.rounds}`.padEnd(56)} ${`${run.ok}/${run.planned} ok`.padEnd(13)}` +
          `${run.throughput.toFixed(0).padStart(5)}/s  p50 ${ms(run.p50, 1).padStart(8)}  p99 ${ms(run.p99, 1).padStart(8)}  ` +
          `cpu edge ${ms(per(measured.edgeCpuMs), 3)}, bridge ${ms(per(measured.bridgeCpuMs))}${trouble}`,
      );
    }
  }
  const combine = (list: (typeof runs)[Credential], credential: Credential): CredentialFigures => {
    const answered = list.reduce((sum, r) => sum + r.answered, 0);
    const median = (key: 'throughput' | 'p50' | 'p99') =>
      percentile(
        list.map((r) => r[key]),
        50,
      );
    return {
      ok: list.reduce((sum, r) => sum + r.ok, 0),
      answered,
      throughput: median('throughput'),
      p50: median('p50'),
      p99: median('p99'),
      edgeCpuMs: list.reduce((sum, r) => sum + r.edgeCpuMs, 0) / Math.max(1, answered),
      bridgeCpuMs: list.reduce((sum, r) => sum + r.bridgeCpuMs, 0) / Math.max(1, answered),
      headerBytes: headerBytes[credential] ?? Number.NaN,
    };
  };
  return {
    session: combine(runs.session, 'session'),
    sessionAlone: combine(runs.sessionAlone, 'sessionAlone'),
    bearerRs256: combine(runs.bearerRs256, 'bearerRs256'),
    bearerEs256: combine(runs.bearerEs256, 'bearerEs256'),
  };
}

/** The same session, run out a minute ago: re-signed with its own key, as the bridge would have. */
async function expiredCopy(session: string, keys: JWK[]): Promise<string> {
  const header = decodeProtectedHeader(session);
  const jwk = keys.find((key) => key.kid === header.kid);
  if (jwk === undefined) throw new Error(`no session key ${header.kid}`);
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ ...decodeJwt(session), iat: now - 660, nbf: now - 660, exp: now - 60 })
    .setProtectedHeader({ alg: 'ES256', kid: header.kid!, typ: header.typ! })
    .sign(await importJWK(jwk, 'ES256'));
}

/** Several browsers, one request at a time each, for `ctx.refreshes` requests each per round and kind. */
async function measureRefresh(
  ctx: PeopleContext,
  stack: Stack,
  cpu: () => { edge: number; bridge: number },
): Promise<NonNullable<PeopleResult['refresh']>> {
  const url = `${stack.origin}/v1/whoami`;
  const browsers = 4;
  const people = await Promise.all(
    Array.from({ length: browsers }, async () => {
      const signedIn = await signIn(stack.origin);
      return {
        ...signedIn,
        expired: await expiredCopy(signedIn.session, stack.sessionKeys),
        // Kept alive, as a browser keeps its connection: the TLS handshake is not the refresh's.
        agent: new Agent({ keepAlive: true, maxSockets: 1, rejectUnauthorized: false }),
      };
    }),
  );
  try {
    // The expired session alone is refused: what the measured requests get is the refresh's doing.
    const alone = await call(url, {
      headers: { cookie: `${cookieNames.session}=${people[0]!.expired}` },
      timeoutMs: 10_000,
    });
    if (alone.status !== 401) throw new Error(`an expired session without a refresh cookie answered ${alone.status}`);
    const kinds = ['refreshed', 'valid'] as const;
    const samples: Record<
      (typeof kinds)[number],
      { latencies: number[]; requests: number; edge: number; bridge: number }
    > = {
      refreshed: { latencies: [], requests: 0, edge: 0, bridge: 0 },
      valid: { latencies: [], requests: 0, edge: 0, bridge: 0 },
    };
    const idpBefore = stack.issuer.signIn?.stats.refreshes ?? 0;
    for (let round = 1; round <= ctx.rounds; round += 1) {
      for (const kind of kinds) {
        const latencies: number[] = [];
        let failed = 0;
        const before = cpu();
        await Promise.all(
          people.map(async (p) => {
            for (let i = 0; i < ctx.refreshes; i += 1) {
              const session = kind === 'refreshed' ? p.expired : p.session;
              const answer = await call(url, {
                headers: { cookie: `${cookieNames.session}=${session}; ${cookieNames.refresh}=${p.refresh}` },
                timeoutMs: 10_000,
                agent: p.agent,
              });
              // The refresh token rotates at the IdP: the next request carries the one just set.
              const set = new Map(
                [answer.headers['set-cookie'] ?? []].flat().map((line) => {
                  const pair = line.split(';')[0]!;
                  return [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)] as const;
                }),
              );
              const renewed = set.get(cookieNames.session);
              const ok = answer.status === 200 && (kind === 'valid' ? renewed === undefined : renewed !== undefined);
              if (!ok) failed += 1;
              else latencies.push(answer.ms);
              if (set.get(cookieNames.refresh)) p.refresh = set.get(cookieNames.refresh)!;
              if (renewed) p.session = renewed;
            }
          }),
        );
        const after = cpu();
        const s = samples[kind];
        s.latencies.push(...latencies);
        s.requests += people.length * ctx.refreshes;
        s.edge += after.edge - before.edge;
        s.bridge += after.bridge - before.bridge;
        const count = people.length * ctx.refreshes;
        ctx.say(
          `${`people: /v1/whoami, ${kind === 'refreshed' ? 'expired session, refreshed' : 'valid session'} r${round}/${ctx.rounds}`.padEnd(56)} ` +
            `${`${latencies.length}/${count} ok`.padEnd(13)}p50 ${ms(percentile(latencies, 50), 1).padStart(8)}  ` +
            `p99 ${ms(percentile(latencies, 99), 1).padStart(8)}  cpu edge ${ms((after.edge - before.edge) / count, 3)}, ` +
            `bridge ${ms((after.bridge - before.bridge) / count)}${failed > 0 ? `  [${failed} failed]` : ''}`,
        );
      }
    }
    const figures = (kind: (typeof kinds)[number]): LatencyFigures => {
      const s = samples[kind];
      return {
        requests: s.requests,
        ok: s.latencies.length,
        p50: percentile(s.latencies, 50),
        p99: percentile(s.latencies, 99),
        edgeCpuMs: s.edge / Math.max(1, s.requests),
        bridgeCpuMs: s.bridge / Math.max(1, s.requests),
      };
    };
    return {
      refreshed: figures('refreshed'),
      valid: figures('valid'),
      idpRefreshes: (stack.issuer.signIn?.stats.refreshes ?? 0) - idpBefore,
      browsers,
    };
  } finally {
    for (const p of people) p.agent.destroy();
  }
}

/** The module's rows: the edge's CPU with a session against a bearer token, the refresh, the console's page. */
export function peopleTargets(result: PeopleResult): TargetRow[] {
  const rows: TargetRow[] = [];
  const cpu = result.edgeCpu;
  if (cpu !== undefined) {
    const { session, sessionAlone: alone, bearerRs256: rs, bearerEs256: es } = cpu;
    rows.push(
      targetRow(
        'people: edge CPU per request, session cookie / bearer token (RS256)',
        `${ms(session.edgeCpuMs, 3)} vs ${ms(rs.edgeCpuMs, 3)}`,
        session.edgeCpuMs / rs.edgeCpuMs,
        '≤ 1.2×',
        (r) => r <= 1.2,
        `Cookie ${session.headerBytes} B, Authorization ${rs.headerBytes} B`,
      ),
      referenceRow(
        'people: edge CPU per request, session cookie / bearer token (ES256)',
        `${ms(session.edgeCpuMs, 3)} vs ${ms(es.edgeCpuMs, 3)}`,
        session.edgeCpuMs / es.edgeCpuMs,
        'the same algorithm as the session',
      ),
      referenceRow(
        'people: edge CPU per request, session cookie alone / bearer token (RS256)',
        `${ms(alone.edgeCpuMs, 3)} vs ${ms(rs.edgeCpuMs, 3)}`,
        alone.edgeCpuMs / rs.edgeCpuMs,
        'without the refresh and logout cookies a browser sends beside it',
      ),
      referenceRow(
        'people: bridge CPU per request, session cookie / bearer token (RS256)',
        `${ms(session.bridgeCpuMs)} vs ${ms(rs.bridgeCpuMs)}`,
        session.bridgeCpuMs / rs.bridgeCpuMs,
        'the bridge verifies the cookie too',
      ),
    );
  }
  const refresh = result.refresh;
  if (refresh !== undefined) {
    const { refreshed: r, valid: v } = refresh;
    rows.push(
      referenceRow(
        'people: p50 of a request renewing its session / with a valid one',
        `${ms(r.p50, 1)} vs ${ms(v.p50, 1)} (p99 ${ms(r.p99, 1)} vs ${ms(v.p99, 1)})`,
        r.p50 / v.p50,
        `${r.ok}/${r.requests} renewed, ${refresh.idpRefreshes} refresh grants at the IdP`,
      ),
      referenceRow(
        'people: edge CPU per request renewing its session / with a valid one',
        `${ms(r.edgeCpuMs, 3)} vs ${ms(v.edgeCpuMs, 3)}`,
        r.edgeCpuMs / v.edgeCpuMs,
        `bridge ${ms(r.bridgeCpuMs)} vs ${ms(v.bridgeCpuMs)}`,
      ),
    );
  }
  if (result.jobPage !== undefined) rows.push(...pageTargets(result.jobPage));
  return rows;
}
