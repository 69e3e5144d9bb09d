// Browser sign-in for the tests: a config's signIn section with fresh keys (tests mint their own),
// and a small cookie-keeping HTTP client that walks the sign-in as a browser would (redirects,
// cookies per host, the dev issuer's sign-in form), for tests that need no real browser.
import { randomBytes } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { Agent, request as httpsRequest } from 'node:https';
import { generateSessionKey } from '../../src/bridge/sign-in/session-keys.js';
import type { ConfigOverlay } from '../../src/config/overlay.js';

export interface SignInKeys {
  sessionKeys: { keys: Array<Record<string, unknown>> };
  cookieKeys: string[];
}

export async function freshSignInKeys(): Promise<SignInKeys> {
  return {
    sessionKeys: { keys: [await generateSessionKey(`session-${randomBytes(4).toString('hex')}`)] },
    cookieKeys: [randomBytes(32).toString('base64url')],
  };
}

/**
 * Sign-in on, as a config overlay and the environment holding its secrets (the keys as the
 * environment variables the overlay names), so the loader checks and resolves it as a file's.
 */
export function signInOverlay(
  publicUrl: string,
  keys: SignInKeys,
  overrides: ConfigOverlay['signIn'] = {},
): { overlay: ConfigOverlay; env: Record<string, string> } {
  const cookieKeyNames = keys.cookieKeys.map((_, index) => `TEST_COOKIE_KEY_${index}`);
  return {
    overlay: {
      signIn: {
        publicUrl,
        clientId: 'gatehouse-web',
        scopes: ['openid', 'profile', 'email', 'offline_access'],
        sessionTtl: '10m',
        maxSessionAge: '12h',
        sessionAudience: 'gatehouse-session',
        sessionKeys: { env: 'TEST_SESSION_KEYS' },
        cookieKeys: cookieKeyNames.map((env) => ({ env })),
        maxGroups: 50,
        argo: { identity: 'serviceAccount', namespaces: ['team-a', 'team-b'] },
        temporal: { namespaces: ['default'] },
        console: { argoUrl: '/argo/' },
        ...overrides,
      },
    },
    env: {
      TEST_SESSION_KEYS: JSON.stringify(keys.sessionKeys),
      ...Object.fromEntries(cookieKeyNames.map((name, index) => [name, keys.cookieKeys[index]!])),
    },
  };
}

export interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  url: string;
}

/** A cookie jar keyed by host:port, and requests that use it (TLS certificates are not checked: dev certificates). */
export class Browser {
  readonly jar = new Map<string, Map<string, string>>();
  readonly agent = new Agent({ keepAlive: false, rejectUnauthorized: false });

  cookies(url: string): Map<string, string> {
    const host = new URL(url).host;
    let cookies = this.jar.get(host);
    if (cookies === undefined) this.jar.set(host, (cookies = new Map()));
    return cookies;
  }

  async request(
    url: string,
    options: { method?: string; headers?: Record<string, string>; body?: string } = {},
  ): Promise<Answer> {
    const target = new URL(url);
    const cookies = [...this.cookies(url)].map(([name, value]) => `${name}=${value}`).join('; ');
    const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
    const answer = await new Promise<Answer>((resolve, reject) => {
      const request = send(
        target,
        {
          method: options.method ?? 'GET',
          headers: {
            ...(cookies === '' ? {} : { cookie: cookies }),
            ...(options.body === undefined ? {} : { 'content-length': String(Buffer.byteLength(options.body)) }),
            ...options.headers,
          },
          ...(target.protocol === 'https:' ? { agent: this.agent } : {}),
        },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('end', () =>
            resolve({
              status: response.statusCode ?? 0,
              headers: response.headers,
              body: Buffer.concat(chunks).toString('utf8'),
              url,
            }),
          );
          response.on('error', reject);
        },
      );
      request.on('error', reject);
      request.end(options.body);
    });
    for (const line of [answer.headers['set-cookie'] ?? []].flat()) {
      const [pair, ...attributes] = line.split(';');
      const index = pair!.indexOf('=');
      const name = pair!.slice(0, index).trim();
      const value = pair!.slice(index + 1).trim();
      const expired = attributes.some((a) => /^\s*max-age=0\s*$/i.test(a));
      if (expired || value === '') this.cookies(url).delete(name);
      else this.cookies(url).set(name, value);
    }
    return answer;
  }

  /** Follows redirects (as a browser navigating would), at most `limit` of them. */
  async navigate(url: string, limit = 10): Promise<Answer> {
    let answer = await this.request(url, { headers: { 'sec-fetch-mode': 'navigate', accept: 'text/html' } });
    while (answer.status >= 300 && answer.status < 400 && limit-- > 0) {
      const next = new URL(String(answer.headers.location), answer.url).href;
      answer = await this.request(next, { headers: { 'sec-fetch-mode': 'navigate', accept: 'text/html' } });
    }
    return answer;
  }

  /** Opens `url`, signs in at the dev issuer's form (if it shows) as `username` with `groups`, and follows back. */
  async signIn(url: string, username: string, groups: string[] = []): Promise<Answer> {
    const page = await this.navigate(url);
    if (!page.body.includes('<form method="post" action="/authorize">')) return page;
    const fields = new URLSearchParams();
    for (const [, name, value] of page.body.matchAll(/<input type="hidden" name="([^"]*)" value="([^"]*)">/g)) {
      fields.set(unescapeHtml(name!), unescapeHtml(value!));
    }
    fields.set('username', username);
    fields.set('groups', groups.join(','));
    const posted = await this.request(new URL('/authorize', page.url).href, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: fields.toString(),
    });
    return this.navigate(new URL(String(posted.headers.location), page.url).href);
  }
}

function unescapeHtml(text: string): string {
  return text
    .replaceAll('&quot;', '"')
    .replaceAll('&#39;', "'")
    .replaceAll('&lt;', '<')
    .replaceAll('&gt;', '>')
    .replaceAll('&amp;', '&');
}
