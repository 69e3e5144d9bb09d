// Callback URLs (src/config/callback-url.ts): what is a usable URL at all (and which paths a
// receiver could read otherwise than the glob: `;`, encoded separators, dots and percents, control
// characters, empty segments), what a receiver's pattern allows (scheme, host and one-label
// wildcards, port, path globs), and its query rule.
import { describe, expect, it } from 'vitest';
import { matchesPattern, parseCallbackUrl, parseUrlPattern, queryProblem } from '../../../src/config/callback-url.js';

function pattern(text: string) {
  const parsed = parseUrlPattern(text);
  if (typeof parsed === 'string') throw new Error(parsed);
  return (raw: string) => {
    const url = parseCallbackUrl(raw);
    return typeof url !== 'string' && matchesPattern(parsed, url);
  };
}

const url = (raw: string) => {
  const parsed = parseCallbackUrl(raw);
  if (typeof parsed === 'string') throw new Error(parsed);
  return parsed;
};

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
    expect(parseCallbackUrl('https://hooks.example.com/a%2F..%2Fadmin')).toMatch(/encoded \//);
    expect(parseCallbackUrl('https://hooks.example.com/a%5cb')).toMatch(/encoded \//);
    expect(parseCallbackUrl('https://hooks.example.com/a b')).toMatch(/printable ASCII/);
    expect(parseCallbackUrl('https://hööks.example.com/')).toMatch(/printable ASCII/);
    expect(parseCallbackUrl(`https://hooks.example.com/${'a'.repeat(2048)}`)).toMatch(/longer than 2048/);
  });

  it('refuses paths a receiver could read otherwise than the glob: path parameters, encoded dots and percents, controls, //', () => {
    for (const [raw, why] of [
      // Servers that strip path parameters read this as /team-a/../admin/purge.
      ['https://hooks.example.com/team-a/..;/admin/purge', /no ; in the path/],
      ['https://hooks.example.com/team-a/x;jsessionid=1', /no ; in the path/],
      ['https://hooks.example.com/team-a/..%3B/admin', /no ; in the path/],
      ['https://hooks.example.com/team-a/..%2e/admin', /encoded \. or %/],
      ['https://hooks.example.com/team-a/%2e%2e%2fadmin', /encoded \//],
      ['https://hooks.example.com/team-a/%252e%252e/admin', /encoded \. or %/],
      ['https://hooks.example.com/team-a/%00/x', /control characters/],
      ['https://hooks.example.com/team-a/%7F/x', /control characters/],
      ['https://hooks.example.com/team-a//x', /empty path segment/],
    ] as const)
      expect(parseCallbackUrl(raw), raw).toMatch(why);
  });

  it('resolves plain and encoded dot segments before anything matches, and sends the resolved URL', () => {
    expect(url('https://hooks.example.com/team-a/%2e%2e/admin').href).toBe('https://hooks.example.com/admin');
    expect(url('https://hooks.example.com/team-a/.%2E/admin').href).toBe('https://hooks.example.com/admin');
    expect(url('https://hooks.example.com/team-a\\..\\admin').href).toBe('https://hooks.example.com/admin');
  });
});

describe('a receiver pattern', () => {
  it('matches scheme, exact host, port and path glob, never another team’s path', () => {
    const allows = pattern('https://hooks.example.com/team-a/**');
    expect(allows('https://HOOKS.example.com:443/team-a/jobs/1')).toBe(true);
    for (const refused of [
      'https://hooks.example.com/other',
      'https://hooks.example.com:8443/team-a/x',
      'https://evil.example/team-a/x',
      'https://hooks.example.com.evil.example/team-a/x',
      'https://evilhooks.example.com/team-a/x',
      'https://hooks.example.com./team-a/x',
      'https://hooks.example.com/team-a/../admin',
      'https://hooks.example.com/team-a/%2e%2e/admin',
      'https://hooks.example.com/team-a/..;/admin/purge',
      'https://hooks.example.com/team-a\\..\\admin',
    ])
      expect(allows(refused), refused).toBe(false);
  });

  it('lets *. stand for exactly one label', () => {
    const allows = pattern('https://*.ci.example.com/hook');
    expect(allows('https://a.ci.example.com/hook')).toBe(true);
    expect(allows('https://a.b.ci.example.com/hook')).toBe(false);
    expect(allows('https://ci.example.com/hook')).toBe(false);
    expect(allows('https://a.ci.example.com/hook/more')).toBe(false);
  });

  it('compares IP hosts as the URL parser normalizes them, with the port exact', () => {
    const allows = pattern('http://127.0.0.1:4000/cb/*');
    expect(allows('http://127.1:4000/cb/x')).toBe(true);
    expect(url('http://127.1:4000/cb/x').href).toBe('http://127.0.0.1:4000/cb/x');
    expect(allows('http://127.0.0.1:4001/cb/x')).toBe(false);
    expect(allows('http://127.0.0.1:4000/cb/x/y')).toBe(false);
    expect(pattern('http://[::1]:4000/**')('http://[::1]:4000/a')).toBe(true);
  });

  it('says what is wrong with a malformed one', () => {
    expect(parseUrlPattern('https://hooks.example.com')).toMatch(/write \/\*\* for any path/);
    expect(parseUrlPattern('https://hooks.example.com/a;b/**')).toMatch(/without ;/);
    expect(parseUrlPattern('https://hooks.example.com/a?x=1')).toMatch(/without ;, \?/);
    expect(parseUrlPattern('http://hooks.example.com/**')).toMatch(/http only for a loopback host/);
    expect(parseUrlPattern('http://*.localhost/**')).toMatch(/http only for a loopback host/);
    expect(parseUrlPattern('https://hooks.example.com:70000/**')).toMatch(/out of range/);
    expect(parseUrlPattern('hooks.example.com/**')).toMatch(/expected scheme/);
  });
});

describe('a receiver query rule', () => {
  it('takes no query string, not even a bare ?, unless the receiver names its parameters', () => {
    expect(queryProblem(url('https://h.example.com/a'), [])).toBeUndefined();
    expect(queryProblem(url('https://h.example.com/a?env=prod&approved=true'), [])).toBe('takes no query string');
    expect(queryProblem(url('https://h.example.com/a?'), [])).toBe('takes no query string');
  });

  it('takes only the parameters named, each once, and no ;', () => {
    const takes = ['token'];
    expect(queryProblem(url('https://h.example.com/a?token=abc'), takes)).toBeUndefined();
    expect(queryProblem(url('https://h.example.com/a?%74oken=abc'), takes)).toBeUndefined();
    for (const raw of [
      'https://h.example.com/a?token=abc&approved=true',
      'https://h.example.com/a?token=abc&token=def',
      'https://h.example.com/a?token=abc;approved=true',
      'https://h.example.com/a?token=abc%3Bapproved=true',
      'https://h.example.com/a?env=prod',
    ])
      expect(queryProblem(url(raw), takes), raw).toMatch(/takes only the query parameters token/);
  });
});
