// Completion callback URLs: what is a usable URL at all, what the allow-list lets through (scheme,
// host and one-label wildcards, port, path globs; never the query), the config checks of the
// callbacks section and of routes' defaults, which queues deliver, and the signing secret's shape.
import { describe, expect, it } from 'vitest';
import {
  compileAllowList,
  deliversCallbacks,
  parseCallbackUrl,
  signingSecretProblem,
} from '../../../src/config/callbacks.js';
import { ConfigError } from '../../../src/config/load-config.js';
import { resolveWorkerSecrets } from '../../../src/config/worker-secrets.js';
import { configScratch, minimalConfig } from '../../helpers/config-files.js';

const { load } = configScratch('gatehouse-callbacks-');
const secret = `whsec_${Buffer.from('0123456789abcdef0123456789abcdef').toString('base64')}`;

function allow(...patterns: string[]) {
  const { allowList, problems } = compileAllowList(patterns);
  expect(problems).toEqual([]);
  return (url: string) => allowList.check(url);
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

describe('parseCallbackUrl', () => {
  it('takes an absolute https URL, and http only for a loopback host', () => {
    expect(parseCallbackUrl('https://hooks.example.com/a?b=c')).toBeInstanceOf(URL);
    for (const loopback of ['http://127.0.0.1:8080/x', 'http://[::1]/x', 'http://localhost/x'])
      expect(parseCallbackUrl(loopback), loopback).toBeInstanceOf(URL);
    expect(parseCallbackUrl('http://hooks.example.com/x')).toMatch(/https only/);
    expect(parseCallbackUrl('ftp://hooks.example.com/x')).toBe('https only');
    expect(parseCallbackUrl('/relative')).toBe('not an absolute URL');
  });

  it('refuses credentials, fragments, encoded separators, spaces, non-ASCII and over-long URLs', () => {
    expect(parseCallbackUrl('https://user:pw@hooks.example.com/x')).toBe('no credentials in the URL');
    expect(parseCallbackUrl('https://hooks.example.com/x#frag')).toBe('no fragment (#)');
    expect(parseCallbackUrl('https://hooks.example.com/a%2F..%2Fadmin')).toMatch(/encoded/);
    expect(parseCallbackUrl('https://hooks.example.com/a%5cb')).toMatch(/encoded/);
    expect(parseCallbackUrl('https://hooks.example.com/a b')).toMatch(/printable ASCII/);
    expect(parseCallbackUrl('https://hööks.example.com/')).toMatch(/printable ASCII/);
    expect(parseCallbackUrl(`https://hooks.example.com/${'a'.repeat(2048)}`)).toMatch(/longer than 2048/);
  });
});

describe('the allow-list', () => {
  it('matches scheme, exact host, port and path glob, and answers the normalized URL', () => {
    const check = allow('https://hooks.example.com/gatehouse/**');
    expect(check('https://HOOKS.example.com:443/gatehouse/jobs/1?token=x')).toEqual({
      ok: true,
      url: 'https://hooks.example.com/gatehouse/jobs/1?token=x',
    });
    for (const refused of [
      'https://hooks.example.com/other',
      'https://hooks.example.com:8443/gatehouse/x',
      'https://evil.example/gatehouse/x',
      'https://hooks.example.com.evil.example/gatehouse/x',
      'https://evilhooks.example.com/gatehouse/x',
      // The parser resolves dot segments before the glob sees the path.
      'https://hooks.example.com/gatehouse/../admin',
    ])
      expect(check(refused), refused).toMatchObject({ ok: false, reason: 'not-allowed' });
    expect(check('https://hooks.example.com/gatehouse/x#y')).toMatchObject({ ok: false, reason: 'invalid' });
  });

  it('lets *. stand for exactly one label', () => {
    const check = allow('https://*.ci.example.com/hook');
    expect(check('https://a.ci.example.com/hook').ok).toBe(true);
    expect(check('https://a.b.ci.example.com/hook').ok).toBe(false);
    expect(check('https://ci.example.com/hook').ok).toBe(false);
    expect(check('https://a.ci.example.com/hook/more').ok).toBe(false);
  });

  it('compares IP hosts as the URL parser normalizes them, with the port exact', () => {
    const check = allow('http://127.0.0.1:4000/cb/*');
    expect(check('http://127.1:4000/cb/x')).toEqual({ ok: true, url: 'http://127.0.0.1:4000/cb/x' });
    expect(check('http://127.0.0.1:4001/cb/x').ok).toBe(false);
    expect(check('http://127.0.0.1:4000/cb/x/y').ok).toBe(false);
    expect(allow('http://[::1]:4000/**')('http://[::1]:4000/a').ok).toBe(true);
  });

  it('refuses everything when empty', () => {
    expect(compileAllowList([]).allowList.enabled).toBe(false);
    expect(compileAllowList([]).allowList.check('https://hooks.example.com/')).toMatchObject({
      ok: false,
      reason: 'not-allowed',
    });
  });

  it('names each malformed entry', () => {
    const { problems } = compileAllowList([
      'https://hooks.example.com',
      'http://hooks.example.com/**',
      'http://*.localhost/**',
      'https://hooks.example.com:70000/**',
      'hooks.example.com/**',
      'https://hooks.example.com/**',
    ]);
    expect(problems.map((p) => p.index)).toEqual([0, 1, 2, 3, 4]);
    expect(problems[0]?.problem).toMatch(/write \/\*\* for any path/);
    expect(problems[1]?.problem).toMatch(/http only for a loopback host/);
  });
});

describe('the callbacks config', () => {
  const withCallbacks = (callbacks: string, route = '') =>
    minimalConfig().replace('    input: { type: object }\n', `    input: { type: object }\n${route}`) +
    `callbacks:\n${callbacks}`;

  it('loads an allow-list with its defaults, and a route default the list allows', () => {
    const config = load(
      withCallbacks(
        `  allow: ['https://hooks.example.com/**']\n  secret: { env: CB_SECRET }\n`,
        '    callback: https://hooks.example.com/policy\n',
      ),
    );
    expect(config.callbacks).toMatchObject({
      allow: ['https://hooks.example.com/**'],
      retryFor: '24h',
      initialInterval: '5s',
      maxInterval: '10m',
      timeout: '10s',
    });
    expect(config.routes['policy-check']?.callback).toBe('https://hooks.example.com/policy');
    // The bridge never resolves the signing secret: it is not set here, and loading succeeds.
    expect(JSON.stringify(config)).not.toContain('whsec_');
  });

  it('refuses a route default the list does not allow, an allow-list without a secret, and bad settings', () => {
    expect(
      problemsOf(
        withCallbacks(
          `  allow: ['https://hooks.example.com/**', 'https://x']\n  taskQueue: nope\n  initialInterval: 1m\n  maxInterval: 10s\n`,
          '    callback: https://other.example.com/policy\n',
        ),
      ),
    ).toEqual([
      '/callbacks/allow/1: expected scheme://host[:port]/path-glob (write /** for any path)',
      '/callbacks/secret: callbacks.allow is set, so callbacks need a signing secret',
      '/callbacks/taskQueue: "nope" is not one of /taskQueues (q1)',
      '/callbacks/maxInterval: must be at least callbacks.initialInterval',
      '/routes/policy-check/callback: callbacks.allow does not allow https://other.example.com/policy',
    ]);
    expect(problemsOf(withCallbacks('  allow: []\n', '    callback: http://hooks.example.com/x\n'))).toEqual([
      '/routes/policy-check/callback: not a usable callback URL: https only (http only for a loopback host)',
    ]);
  });

  it("delivers on callbacks.taskQueue, else on every route's queue, and nowhere while the list is empty", () => {
    const config = load(withCallbacks(`  allow: ['https://h.example.com/**']\n  secret: { env: CB_SECRET }\n`));
    config.taskQueues.push('q2', 'q3');
    expect(deliversCallbacks(config, 'q1')).toBe(true);
    expect(deliversCallbacks(config, 'q2')).toBe(false);
    config.callbacks.taskQueue = 'q3';
    expect(deliversCallbacks(config, 'q1')).toBe(false);
    expect(deliversCallbacks(config, 'q3')).toBe(true);
    config.callbacks.allow = [];
    expect(deliversCallbacks(config, 'q3')).toBe(false);
  });

  it('resolves the signing secret for workers that deliver, and refuses one of the wrong shape', () => {
    const config = load(withCallbacks(`  allow: ['https://h.example.com/**']\n  secret: { env: CB_SECRET }\n`));
    const need = { statusApis: false, argo: false, reconcile: false, callback: true };
    expect(resolveWorkerSecrets(config, { CB_SECRET: secret }, need).callbackSecret?.reveal()).toBe(secret);
    expect(resolveWorkerSecrets(config, {}, { ...need, callback: false }).callbackSecret).toBeUndefined();
    const refused = (value: string | undefined) => {
      try {
        resolveWorkerSecrets(config, value === undefined ? {} : { CB_SECRET: value }, need);
      } catch (error) {
        return (error as ConfigError).problems;
      }
      return [];
    };
    expect(refused(undefined)).toEqual(['/callbacks/secret: environment variable CB_SECRET is not set']);
    expect(refused('plain-text')).toEqual([
      '/callbacks/secret: not a Standard Webhooks secret: whsec_ followed by base64',
    ]);
    // The message never contains the value.
    expect(refused('whsec_c2hvcnQ=')).toEqual([
      '/callbacks/secret: the key is 5 bytes; Standard Webhooks keys are 24 to 64 bytes',
    ]);
  });

  it('knows a Standard Webhooks secret', () => {
    expect(signingSecretProblem(secret)).toBeUndefined();
    expect(signingSecretProblem(secret.slice('whsec_'.length))).toMatch(/whsec_/);
  });
});
