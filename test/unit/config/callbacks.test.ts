// Completion callback receivers (src/config/callbacks.ts): which receiver a URL goes to and who
// may name it (routes, groups, both; a route default only through routes), each receiver's query
// rule, the config checks (the removed shared secret and allow-list named with what to write
// instead, receivers that say nobody may name them, route defaults), which queues deliver, and
// each receiver's own signing key as the worker resolves it.
import { describe, expect, it } from 'vitest';
import { compileReceivers, deliversCallbacks, signingSecretProblem } from '../../../src/config/callbacks.js';
import { ConfigError } from '../../../src/config/load-config.js';
import type { CallbackReceiverConfig } from '../../../src/config/schema.js';
import { resolveWorkerSecrets } from '../../../src/config/worker-secrets.js';
import { configScratch, minimalConfig } from '../../helpers/config-files.js';

const { load } = configScratch('gatehouse-callbacks-');
const key = (seed: string) => `whsec_${Buffer.from(seed.padEnd(32, '.')).toString('base64')}`;

function receivers(entries: Record<string, Partial<CallbackReceiverConfig> & { url: string }>) {
  const full = Object.fromEntries(
    Object.entries(entries).map(([name, entry]) => [
      name,
      { secret: { env: `CB_${name.toUpperCase()}` }, query: [], ...entry },
    ]),
  ) as Record<string, CallbackReceiverConfig>;
  const compiled = compileReceivers(full);
  expect(compiled.problems).toEqual([]);
  return compiled.receivers;
}

function problemsOf(text: string): string[] {
  try {
    load(text);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
}

describe('callback receivers', () => {
  const teams = receivers({
    'team-a': { url: 'https://hooks.example.com/team-a/**', groups: ['team-a'] },
    'team-b': { url: 'https://hooks.example.com/team-b/**', groups: ['team-b'], routes: ['deploy'] },
    ci: { url: 'https://ci.example.com/gatehouse/*', routes: ['ci'], query: ['token'] },
  });

  it('picks the receiver that allows the URL for this route and caller, and answers the normalized URL', () => {
    expect(teams.check('https://HOOKS.example.com:443/team-a/jobs/1', { route: 'ci', groups: ['team-a'] })).toEqual({
      ok: true,
      url: 'https://hooks.example.com/team-a/jobs/1',
      receiver: 'team-a',
    });
    expect(teams.check('https://ci.example.com/gatehouse/x?token=t', { route: 'ci', groups: [] })).toMatchObject({
      ok: true,
      receiver: 'ci',
    });
  });

  it("refuses a caller outside the receiver's groups, or a job of a route it is not bound to", () => {
    for (const [raw, namer] of [
      ['https://hooks.example.com/team-a/x', { route: 'ci', groups: ['team-b'] }],
      ['https://hooks.example.com/team-a/x', { route: 'ci', groups: [] }],
      ['https://hooks.example.com/team-b/x', { route: 'ci', groups: ['team-b'] }],
      ['https://hooks.example.com/team-b/x', { route: 'deploy', groups: ['team-a'] }],
      ['https://ci.example.com/gatehouse/x', { route: 'deploy', groups: ['team-a'] }],
    ] as const)
      expect(teams.check(raw, namer), `${raw} ${JSON.stringify(namer)}`).toMatchObject({
        ok: false,
        reason: 'forbidden',
      });
    expect(teams.check('https://hooks.example.com/team-b/x', { route: 'deploy', groups: ['team-b'] }).ok).toBe(true);
  });

  it('takes a query only where the receiver names its parameters: ?env=prod&approved=true reaches nobody', () => {
    expect(
      teams.check('https://hooks.example.com/team-a/x?env=prod&approved=true', { route: 'ci', groups: ['team-a'] }),
    ).toEqual({ ok: false, reason: 'not-allowed', detail: 'the callback receiver team-a takes no query string' });
    expect(
      teams.check('https://ci.example.com/gatehouse/x?token=t&approved=true', { route: 'ci', groups: [] }),
    ).toMatchObject({ ok: false, reason: 'not-allowed' });
  });

  it('refuses `;` in the path before any receiver is asked, so /team-a/..;/admin never passes /team-a/**', () => {
    expect(
      teams.check('https://hooks.example.com/team-a/..;/admin/purge', { route: 'ci', groups: ['team-a'] }),
    ).toEqual({ ok: false, reason: 'invalid', detail: 'no ; in the path (path parameters)' });
  });

  it('lets a route default (no caller) use only a receiver that lists the route', () => {
    expect(teams.check('https://ci.example.com/gatehouse/x', { route: 'ci' })).toMatchObject({
      ok: true,
      receiver: 'ci',
    });
    // Bound to groups only: a route's default, which every caller of the route gets, cannot use it.
    expect(teams.check('https://hooks.example.com/team-a/x', { route: 'ci' })).toMatchObject({
      ok: false,
      reason: 'forbidden',
    });
  });

  it('takes the first receiver in file order that allows the URL for the caller', () => {
    const overlapping = receivers({
      admins: { url: 'https://hooks.example.com/**', groups: ['admins'] },
      everyone: { url: 'https://hooks.example.com/shared/*', routes: ['ci'] },
    });
    expect(overlapping.check('https://hooks.example.com/shared/x', { route: 'ci', groups: ['admins'] })).toMatchObject({
      receiver: 'admins',
    });
    expect(overlapping.check('https://hooks.example.com/shared/x', { route: 'ci', groups: [] })).toMatchObject({
      receiver: 'everyone',
    });
  });

  it('rechecks one named receiver: gone, or no longer allowing the URL or the caller, it refuses', () => {
    expect(teams.recheck('team-a', 'https://hooks.example.com/team-a/x', { route: 'ci', groups: ['team-a'] }).ok).toBe(
      true,
    );
    expect(
      teams.recheck('team-b', 'https://hooks.example.com/team-a/x', { route: 'ci', groups: ['team-a'] }),
    ).toMatchObject({ ok: false, reason: 'not-allowed' });
    expect(teams.recheck('team-a', 'https://hooks.example.com/team-a/x', { route: 'ci', groups: [] })).toMatchObject({
      ok: false,
      reason: 'forbidden',
    });
    expect(teams.recheck('gone', 'https://hooks.example.com/team-a/x', { route: 'ci' })).toEqual({
      ok: false,
      reason: 'not-allowed',
      detail: 'there is no callback receiver gone any more',
    });
  });

  it('refuses everything when there are none', () => {
    const none = compileReceivers({}).receivers;
    expect(none.enabled).toBe(false);
    expect(none.check('https://hooks.example.com/', { route: 'ci', groups: [] })).toMatchObject({
      ok: false,
      reason: 'not-allowed',
    });
  });
});

describe('the callbacks config', () => {
  const withCallbacks = (callbacks: string, route = '') =>
    minimalConfig().replace('    input: { type: object }\n', `    input: { type: object }\n${route}`) +
    `callbacks:\n${callbacks}`;
  const receiver = `  receivers:\n    hooks:\n      url: https://hooks.example.com/**\n      secret: { env: CB_HOOKS }\n      routes: [policy-check]\n`;

  it('loads receivers with their defaults, and a route default a receiver bound to the route allows', () => {
    const config = load(withCallbacks(receiver, '    callback: https://hooks.example.com/policy\n'));
    expect(config.callbacks).toMatchObject({
      receivers: { hooks: { url: 'https://hooks.example.com/**', routes: ['policy-check'], query: [] } },
      retryFor: '24h',
      initialInterval: '5s',
      maxInterval: '10m',
      timeout: '10s',
      maxConcurrent: 50,
      breaker: { failures: 5, coolDown: '30s' },
    });
    expect(config.routes['policy-check']?.callback).toBe('https://hooks.example.com/policy');
    // The bridge never resolves signing keys: none is set here, and loading succeeds.
    expect(JSON.stringify(config)).not.toContain('whsec_');
  });

  it('refuses the shared secret and the old allow-list, saying what to write instead', () => {
    const problems = problemsOf(
      withCallbacks(`  allow: ['https://hooks.example.com/**']\n  secret: { env: GATEHOUSE_CALLBACK_SECRET }\n`),
    );
    expect(problems).toHaveLength(2);
    expect(problems[0]).toMatch(
      /^\/callbacks\/secret: one key for every receiver is no longer accepted .*callbacks\.receivers\.<name>\.secret.*delete callbacks\.secret$/,
    );
    expect(problems[1]).toMatch(/^\/callbacks\/allow: replaced by callbacks\.receivers: .*routes and\/or groups/);
    // The error names the file it comes from.
    expect(() => load(withCallbacks(`  secret: { env: X }\n`))).toThrow(
      /^invalid configuration in \/.*\.yaml:\n {2}- \/callbacks\/secret: one key for every receiver/,
    );
  });

  it('refuses receivers nobody may name, unknown routes, route defaults no bound receiver allows, and bad settings', () => {
    expect(
      problemsOf(
        withCallbacks(
          `  receivers:\n    open:\n      url: https://hooks.example.com/**\n      secret: { env: A }\n` +
            `    typo:\n      url: https://x\n      secret: { env: B }\n      routes: [nope]\n` +
            `    grouped:\n      url: https://g.example.com/**\n      secret: { env: C }\n      groups: [team-a]\n` +
            `  taskQueue: nope\n  initialInterval: 1m\n  maxInterval: 10s\n`,
          '    callback: https://g.example.com/policy\n',
        ),
      ),
    ).toEqual([
      '/callbacks/receivers/open: say who may name this receiver: routes, groups, or both',
      '/callbacks/receivers/typo: url: expected scheme://host[:port]/path-glob without ;, ? or # (write /** for any path)',
      '/callbacks/receivers/typo/routes: no route named "nope"',
      '/callbacks/taskQueue: "nope" is not one of /taskQueues (q1)',
      '/callbacks/maxInterval: must be at least callbacks.initialInterval',
      '/routes/policy-check/callback: no callback receiver that allows this URL lists the route policy-check in its routes',
    ]);
    expect(problemsOf(withCallbacks(receiver, '    callback: http://hooks.example.com/x\n'))).toEqual([
      '/routes/policy-check/callback: not a usable callback URL: https only (http only for a loopback host)',
    ]);
    expect(problemsOf(withCallbacks(receiver).replace('taskQueues: [q1]', 'taskQueues: [q1, q1.callbacks]'))).toEqual([
      "/taskQueues/1: names ending in .callbacks are the callbacks' own queues",
    ]);
  });

  it("delivers on callbacks.taskQueue, else on every route's queue, and nowhere without receivers", () => {
    const text = withCallbacks(receiver);
    const queues = { taskQueues: ['q1', 'q2', 'q3'] };
    const routeQueues = load(text, {}, queues);
    expect(deliversCallbacks(routeQueues, 'q1')).toBe(true);
    expect(deliversCallbacks(routeQueues, 'q2')).toBe(false);
    const ownQueue = load(text, {}, { ...queues, callbacks: { taskQueue: 'q3' } });
    expect(deliversCallbacks(ownQueue, 'q1')).toBe(false);
    expect(deliversCallbacks(ownQueue, 'q3')).toBe(true);
    const noReceivers = load(text, {}, { ...queues, callbacks: { taskQueue: 'q3', receivers: null } });
    expect(noReceivers.callbacks.receivers).toEqual({});
    expect(deliversCallbacks(noReceivers, 'q3')).toBe(false);
  });

  it('resolves each receiver’s own key for workers that deliver, and refuses a missing, malformed or shared one', () => {
    const two =
      receiver +
      `    other:\n      url: https://other.example.com/**\n      secret: { env: CB_OTHER }\n      routes: [policy-check]\n`;
    const config = load(withCallbacks(two));
    const need = { statusApis: false, argo: false, reconcile: false, callback: true };
    const keys = resolveWorkerSecrets(config, { CB_HOOKS: key('hooks'), CB_OTHER: key('other') }, need).callbackKeys;
    expect(Object.fromEntries([...keys].map(([name, secret]) => [name, secret.reveal()]))).toEqual({
      hooks: key('hooks'),
      other: key('other'),
    });
    expect(resolveWorkerSecrets(config, {}, { ...need, callback: false }).callbackKeys.size).toBe(0);
    const refused = (env: Record<string, string>) => {
      try {
        resolveWorkerSecrets(config, env, need);
      } catch (error) {
        return (error as ConfigError).problems;
      }
      return [];
    };
    expect(refused({ CB_HOOKS: key('hooks') })).toEqual([
      '/callbacks/receivers/other/secret: environment variable CB_OTHER is not set',
    ]);
    // The messages never contain the value.
    expect(refused({ CB_HOOKS: 'plain-text', CB_OTHER: 'whsec_c2hvcnQ=' })).toEqual([
      '/callbacks/receivers/hooks/secret: not a Standard Webhooks secret: whsec_ followed by base64',
      '/callbacks/receivers/other/secret: the key is 5 bytes; Standard Webhooks keys are 24 to 64 bytes',
    ]);
    expect(refused({ CB_HOOKS: key('same'), CB_OTHER: key('same') })).toEqual([
      '/callbacks/receivers/other/secret: the same key as receiver hooks; each receiver needs its own',
    ]);
  });

  it('knows a Standard Webhooks secret', () => {
    expect(signingSecretProblem(key('k'))).toBeUndefined();
    expect(signingSecretProblem(key('k').slice('whsec_'.length))).toMatch(/whsec_/);
  });
});
