// The console's pure guards: CSRF tokens bound to a session, the Content-Security-Policy and other
// headers every answer carries, and HTML templates that escape what they are given.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createCsrfTokens } from '../../../../src/bridge/console/csrf.js';
import { html } from '../../../../src/bridge/console/html.js';
import { consoleHeaders, contentSecurityPolicy } from '../../../../src/bridge/console/security-headers.js';

const key = () => randomBytes(32).toString('base64url');

describe('CSRF tokens', () => {
  const current = key();
  const tokens = createCsrfTokens([current]);
  const token = tokens.issue('jwt:https://idp#alice', 'sid-1');

  it('check for the session and person they were issued to', () => {
    expect(tokens.check(token, 'jwt:https://idp#alice', 'sid-1')).toBe(true);
    // The same person's next session, another person, another issuer's alice: refused.
    expect(tokens.check(token, 'jwt:https://idp#alice', 'sid-2')).toBe(false);
    expect(tokens.check(token, 'jwt:https://idp#bob', 'sid-1')).toBe(false);
    expect(tokens.check(token, 'jwt:https://other#alice', 'sid-1')).toBe(false);
  });

  it('refuse anything else: missing, malformed, tampered, or made with a key not configured', () => {
    for (const bad of [undefined, null, '', 'x', `${token}x`, token.slice(1), ['a'], 42]) {
      expect(tokens.check(bad, 'jwt:https://idp#alice', 'sid-1')).toBe(false);
    }
    const flipped = `${token[0] === 'A' ? 'B' : 'A'}${token.slice(1)}`;
    expect(tokens.check(flipped, 'jwt:https://idp#alice', 'sid-1')).toBe(false);
    const foreign = createCsrfTokens([key()]).issue('jwt:https://idp#alice', 'sid-1');
    expect(tokens.check(foreign, 'jwt:https://idp#alice', 'sid-1')).toBe(false);
  });

  it('keep checking across a rotation of the cookie keys: the old key still opens, the new one issues', () => {
    const rotated = createCsrfTokens([key(), current]);
    expect(rotated.check(token, 'jwt:https://idp#alice', 'sid-1')).toBe(true);
    expect(rotated.issue('jwt:https://idp#alice', 'sid-1')).not.toBe(token);
    expect(() => createCsrfTokens([])).toThrow(RangeError);
  });
});

describe('the console headers', () => {
  it('allow only this origin: no inline script or style, no framing, forms to this origin only', () => {
    const directives = Object.fromEntries(
      contentSecurityPolicy.split('; ').map((d) => [d.split(' ')[0], d.split(' ').slice(1).join(' ')]),
    );
    expect(directives).toEqual({
      'default-src': "'none'",
      'script-src': "'self'",
      'style-src': "'self'",
      'img-src': "'self' data:",
      'connect-src': "'self'",
      'form-action': "'self'",
      'frame-ancestors': "'none'",
      'base-uri': "'none'",
    });
    expect(contentSecurityPolicy).not.toMatch(/unsafe-inline|unsafe-eval|\*/);
  });

  it('keep pages out of every cache, and let digest-named assets be kept', () => {
    expect(consoleHeaders('page')).toMatchObject({
      'content-security-policy': contentSecurityPolicy,
      'x-frame-options': 'DENY',
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'same-origin',
      'cache-control': 'no-store',
    });
    expect(consoleHeaders('asset')['cache-control']).toBe('public, max-age=31536000, immutable');
  });
});

describe('html', () => {
  it('escapes every value, keeps markup it made, joins arrays and drops null, undefined and false', () => {
    const login = `"><script>alert(1)</script>&'`;
    const page = html`<p title="${login}">${login}</p>
      ${[html`<b>${'a<b'}</b>`, 'c&d']}${null}${undefined}${false}${0}`;
    // (Prettier lays the template out on two lines; the line break is the template's, not a value's.)
    expect(page.text.replace(/\n\s*/g, '')).toBe(
      '<p title="&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;&amp;&#39;">&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;&amp;&#39;</p><b>a&lt;b</b>c&amp;d0',
    );
  });
});
