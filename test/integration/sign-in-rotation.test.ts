// Rotating the session signing keys under load, as docs/sign-in.md ("The keys") tells an operator
// to: three rolling deploys of the two bridges (the new key published second; then first; then the
// old one dropped), each replica drained out of the real HAProxy and replaced, with the edge's key
// sync run after each. All the while requests carrying a session cookie signed with the old key
// keep flowing through the edge, to the bridge's API (the edge and the bridge both verify it) and
// to the Temporal UI (the edge alone does): none fails until the old key is withdrawn; sessions
// made after the second deploy are signed with the new key; once the old key is gone from the
// bridges and the sync, its cookies are refused at both. The same machinery as the IdP's key
// rotation in edge.test.ts (send with a keep-alive agent, retried once on a closed keep-alive
// connection as browsers do; the sync's hitless reload).
import { Agent } from 'node:https';
import { base64url } from 'jose';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { generateSessionKey } from '../../src/bridge/sign-in/session-keys.js';
import type { GatehouseConfig } from '../../src/config/load-config.js';
import { Secret } from '../../src/core/secret.js';
import { retries, send, startEdgeHarness, type EdgeHarness } from '../helpers/edge.js';
import { uniqueName } from '../helpers/gatehouse.js';
import { Browser } from '../helpers/sign-in.js';

let e: EdgeHarness;
let base: string;

beforeAll(async () => {
  e = await startEdgeHarness(
    {
      EDGE_TEMPORAL_UI: inject('temporalUiAddress'),
      // The load is one person as fast as the edge answers: the per-person rates would refuse it.
      EDGE_SUBJECT_RATE: '1000000',
      EDGE_PERSON_RATE: '1000000',
    },
    { signIn: {} },
  );
  base = `https://${e.env.EDGE_HTTPS_BIND}`;
}, 90_000);
afterAll(async () => {
  await e?.close();
});

const kidOf = (token: string) =>
  (JSON.parse(new TextDecoder().decode(base64url.decode(token.split('.')[0]!))) as { kid: string }).kid;

/** An admin's session cookie, from a real sign-in at whichever bridges run now. */
async function signInAdmin(): Promise<string> {
  const browser = new Browser();
  await browser.signIn(`${base}/temporal/`, uniqueName('rotation'), ['gatehouse-admins']);
  return browser.cookies(base).get('__Host-gh_session')!;
}

/** The bridges' config with these session keys (the first signs), as a new deploy's Secret would give. */
function withSessionKeys(keys: Array<Record<string, unknown>>): GatehouseConfig {
  return {
    ...e.config,
    signInSecrets: { ...e.config.signInSecrets!, sessionKeys: new Secret(JSON.stringify({ keys })) },
  };
}

/** Both replicas, one after the other, as a rolling update does. */
async function rollOut(config: GatehouseConfig) {
  await e.replaceBridge(0, config);
  await e.replaceBridge(1, config);
}

/** Only the session cookie: a refresh cookie would let the edge renew a refused session and hide it. */
const get = (cookie: string, path: string, agent?: Agent) =>
  send(e.base, { path, headers: { cookie: `__Host-gh_session=${cookie}`, accept: 'application/json' }, agent });
const paths = ['/v1/whoami', '/temporal/api/v1/settings'];

// Three rolling deploys replace a bridge process six times (each a new process loading the app):
// the test's budget is for that work, not for a condition it waits on.
const rotationBudgetMs = 180_000;

describe('rotating the session keys', () => {
  it(
    'loses no request while the new key is published and made the signer, and refuses the old key once withdrawn',
    async () => {
      const oldKey = (
        JSON.parse(e.config.signInSecrets!.sessionKeys.reveal()) as { keys: Array<Record<string, unknown>> }
      ).keys[0]!;
      const newKey = await generateSessionKey(uniqueName('session-new'));
      const oldCookie = await signInAdmin();
      expect(kidOf(oldCookie)).toBe(oldKey.kid);
      for (const path of paths) expect((await get(oldCookie, path)).status, path).toBe(200);

      let running = true;
      const statuses: Array<{ path: string; status: number }> = [];
      const retriesBefore = retries.count;
      const load = async () => {
        const agent = new Agent({ keepAlive: true, maxSockets: 2, rejectUnauthorized: false });
        for (let i = 0; running; i += 1) {
          const path = paths[i % paths.length]!;
          const answer = await get(oldCookie, path, agent).catch(() => ({ status: -1 }));
          statuses.push({ path, status: answer.status });
        }
        agent.destroy();
      };
      const loads = [load(), load()];
      try {
        // 1. The new key published second: the bridges still sign with the old one; the sync loads it.
        await rollOut(withSessionKeys([oldKey, newKey]));
        const published = await e.sync();
        expect(published).toMatchObject({ changed: true, reloaded: true });
        expect(published.kids).toEqual(expect.arrayContaining([oldKey.kid, newKey.kid]));
        expect(kidOf(await signInAdmin())).toBe(oldKey.kid);

        // 2. The new key first: new sessions are signed with it, the old key still verifies.
        await rollOut(withSessionKeys([newKey, oldKey]));
        expect(await e.sync()).toMatchObject({ changed: false });
        const newCookie = await signInAdmin();
        expect(kidOf(newCookie)).toBe(newKey.kid);
        for (const path of paths) expect((await get(newCookie, path)).status, path).toBe(200);
      } finally {
        running = false;
        await Promise.all(loads);
      }
      const failed = statuses.filter((s) => s.status !== 200).map((s) => `${s.path} ${s.status}`);
      expect(statuses.length).toBeGreaterThan(50);
      expect(failed.slice(0, 20), `${failed.length} of ${statuses.length} failed`).toEqual([]);
      console.info(
        `session key rotation: ${statuses.length} requests with the old key during two rolling deploys and a reload, ${retries.count - retriesBefore} retried on a closed keep-alive connection`,
      );

      // 3. The old key dropped (after signIn.sessionTtl, when no session it signed is left) and the
      //    sync withdrawing it (EDGE_KEY_RETAIN_SECONDS=0): its cookies are refused by the edge and
      //    by the bridges, and the new key's are not.
      await rollOut(withSessionKeys([newKey]));
      const withdrawn = await e.sync({ retainSeconds: 0 });
      expect(withdrawn).toMatchObject({ changed: true, reloaded: true });
      expect(withdrawn.kids).not.toContain(oldKey.kid);
      // The master CLI's reload returns before the new worker takes the listeners over: wait for it.
      await vi.waitFor(async () => expect((await get(oldCookie, '/temporal/api/v1/settings')).status).toBe(401), {
        timeout: 10_000,
        interval: 100,
      });
      const ui = await get(oldCookie, '/temporal/api/v1/settings');
      expect(ui.json()).toMatchObject({ code: 'GATEHOUSE_SESSION_INVALID' });
      // Refused by the edge itself (the bridges' code for a key they do not know is GATEHOUSE_INVALID_TOKEN).
      const api = await get(oldCookie, '/v1/whoami');
      expect(api.status).toBe(401);
      expect(api.json()).toMatchObject({ code: 'GATEHOUSE_UNAUTHENTICATED' });
      const fresh = await signInAdmin();
      for (const path of paths) expect((await get(fresh, path)).status, path).toBe(200);
      // The bridges refuse the old key too, had an edge still held it.
      const direct = (cookie: string) =>
        fetch(`http://${e.bridges[0].address}/v1/whoami`, { headers: { cookie: `__Host-gh_session=${cookie}` } });
      expect((await direct(oldCookie)).status).toBe(401);
      expect((await direct(fresh)).status).toBe(200);
    },
    rotationBudgetMs,
  );
});
