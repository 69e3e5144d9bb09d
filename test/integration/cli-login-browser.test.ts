// `gatehouse login --browser`: the loopback redirect with PKCE (RFC 8252) against the development
// issuer's sign-in page and a real bridge that trusts that issuer. The person is Debian's Chromium
// (playwright-core), sent by the command to the page it opens: it signs in there, comes back to
// the command's 127.0.0.1 listener, and the command ends signed in. A redirect carrying a real
// code but another state is refused before the code is exchanged, and nothing is stored. Without
// --browser an issuer that also has the device grant gets the device sign-in, and one without it
// the browser sign-in.
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Whoami } from '../../src/client/index.js';
import { runCommand } from '../../src/command/program.js';
import { jwtPrincipal } from '../../src/core/principal.js';
import { deviceGrant } from '../../src/dev/dev-issuer-device.js';
import { freePort } from '../../src/dev/temporal-dev-server.js';
import { launchChromium } from '../helpers/chromium.js';
import { startGatehouse, uniqueName, useGatehouse } from '../helpers/gatehouse.js';

const h = useGatehouse({ worker: false, issuer: { allowSignIn: true, extensions: [deviceGrant({ interval: 1 })] } });
let url: string;
let browser: Browser;

beforeAll(async () => {
  const port = await freePort();
  await h.app.listen({ host: '127.0.0.1', port });
  url = `http://127.0.0.1:${port}`;
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await h.app.close();
});

/** One person's terminal: its own config dir, and what the command opens goes to `openUrl`. */
function terminal(openUrl: (url: string) => Promise<void> = () => Promise.reject(new Error('no browser'))) {
  const env = { XDG_CONFIG_HOME: mkdtempSync(join(tmpdir(), 'gatehouse-xdg-')) };
  const opened: string[] = [];
  const run = async (argv: string[]) => {
    let stdout = '';
    let stderr = '';
    const code = await runCommand(
      argv,
      {
        stdout: { write: (chunk: string) => ((stdout += chunk), true) } as unknown as NodeJS.WritableStream,
        stderr: { write: (chunk: string) => ((stderr += chunk), true) } as unknown as NodeJS.WritableStream,
        env,
      },
      {
        openUrl: (target) => {
          opened.push(target);
          return openUrl(target);
        },
      },
    );
    return { code, stdout, stderr };
  };
  const tokensPath = join(env.XDG_CONFIG_HOME, 'gatehouse', 'tokens', 'dev.json');
  return { env, run, opened, tokensPath };
}

/**
 * A browser that, once the command opens a URL, goes there and signs in at the issuer's page as
 * `username` (`rewrite` changes the URL first); `done` is the page it ends on, the command's own.
 */
function person(username: string, groups: string, rewrite: (url: URL) => void = () => {}) {
  let page: Page | undefined;
  let finished: (page: Page) => void;
  const done = new Promise<Page>((resolve) => (finished = resolve));
  const openUrl = async (target: string) => {
    const address = new URL(target);
    rewrite(address);
    const redirectUri = address.searchParams.get('redirect_uri')!;
    // As the system browser does: the command goes on while the person signs in.
    void (async () => {
      page = await (await browser.newContext()).newPage();
      await page.goto(address.href);
      await page.getByLabel('User name').fill(username);
      await page.getByLabel('Groups (comma-separated)').fill(groups);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.waitForURL((at) => at.href.startsWith(`${redirectUri}?`));
      await page.getByRole('heading').waitFor();
      finished(page);
    })();
  };
  return { openUrl, done, close: () => page?.context().close() };
}

describe('gatehouse login --browser (loopback redirect with PKCE)', () => {
  it('opens the issuer sign-in page, takes the redirect back on 127.0.0.1, and ends signed in', async () => {
    const username = uniqueName('lin');
    const ada = person(username, 'maintainers');
    const t = terminal(ada.openUrl);
    expect((await t.run(['profile', 'set', 'dev', '--url', url, '--issuer', h.issuer.issuer])).code).toBe(0);
    const login = await t.run(['login', '--browser']);
    expect(login.code, login.stderr).toBe(0);
    const principal = jwtPrincipal(h.issuer.issuer, username);
    expect(login.stderr).toContain(`signed in as ${principal}`);

    // What the command asked for: a loopback redirect, PKCE S256, a state and a nonce.
    expect(t.opened).toHaveLength(1);
    const asked = new URL(t.opened[0]!);
    expect(`${asked.origin}${asked.pathname}`).toBe(`${h.issuer.issuer}/authorize`);
    const redirectUri = asked.searchParams.get('redirect_uri')!;
    expect(redirectUri).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/callback$/);
    expect(asked.searchParams.get('code_challenge_method')).toBe('S256');
    expect(asked.searchParams.get('code_challenge')).toMatch(/^[\w-]{43}$/);
    expect(asked.searchParams.get('state')).toMatch(/^[\w-]{20,}$/);
    expect(asked.searchParams.get('nonce')).toMatch(/^[\w-]{20,}$/);
    expect(asked.searchParams.get('scope')!.split(' ')).toEqual(expect.arrayContaining(['openid', 'offline_access']));
    // The URL is printed too, for a browser that opened out of sight.
    expect(login.stderr).toContain(`  ${t.opened[0]}`);

    const page = await ada.done;
    expect(await page.getByRole('heading').textContent()).toBe('Signed in');
    expect(await page.textContent('body')).toContain('You can close this tab');
    await ada.close();
    // One callback only: the listener is gone once the sign-in is done.
    await expect(fetch(redirectUri)).rejects.toThrow();

    expect(statSync(t.tokensPath).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(t.tokensPath, 'utf8'))).toMatchObject({
      issuer: `${h.issuer.issuer}/`,
      clientId: 'gatehouse-cli',
      refreshToken: expect.any(String),
    });
    const me = await t.run(['whoami', '--json']);
    expect(me.code, me.stderr).toBe(0);
    expect(JSON.parse(me.stdout) as Whoami).toMatchObject({ principal, groups: ['maintainers'], method: 'jwt' });
  });

  it('refuses a redirect whose state is not its own, exchanges no code, and stores nothing', async () => {
    const codesBefore = h.issuer.signIn!.stats.codes;
    // The issuer sends back whatever state it was given: a real code, with a state this sign-in never made.
    const mallory = person(uniqueName('mallory'), 'gatehouse-admins', (address) =>
      address.searchParams.set('state', 'forged-state-0123456789'),
    );
    const t = terminal(mallory.openUrl);
    await t.run(['profile', 'set', 'dev', '--url', url, '--issuer', h.issuer.issuer]);
    const login = await t.run(['login', '--browser']);
    expect(login.code).toBe(6);
    expect(login.stderr).toMatch(/Sign-in failed \(GATEHOUSE_CLI_LOGIN_FAILED\)\n.*state mismatch/);
    const page = await mallory.done;
    expect(await page.getByRole('heading').textContent()).toBe('Sign-in failed');
    await mallory.close();
    expect(h.issuer.signIn!.stats.codes).toBe(codesBefore);
    expect(() => statSync(t.tokensPath)).toThrow();
    expect((await t.run(['whoami'])).stderr).toContain('GATEHOUSE_CLI_SIGNED_OUT');
  });

  it('is what login does when the issuer has no device grant; --no-open prints the URL, --timeout gives up', async () => {
    // An issuer with the browser sign-in only (no bridge needed: the command never gets tokens).
    const own = await startGatehouse({ worker: false, bridge: false, issuer: { allowSignIn: true } });
    const browserOnly = own.issuer;
    try {
      const t = terminal();
      await t.run(['profile', 'set', 'dev', '--url', url, '--issuer', browserOnly.issuer]);
      const login = await t.run(['login', '--no-open', '--timeout', '1']);
      expect(login.code).toBe(6);
      expect(t.opened).toEqual([]);
      expect(login.stderr).toMatch(
        new RegExp(
          `To sign in, open this URL in a browser on this machine:\\n  ${browserOnly.issuer}/authorize\\?\\S+`,
        ),
      );
      expect(login.stderr).toContain('Sign-in timed out (GATEHOUSE_CLI_LOGIN_TIMEOUT)');
      expect(() => statSync(t.tokensPath)).toThrow();
    } finally {
      await own.close();
    }
  });

  it('uses the device grant without --browser when the issuer offers it', async () => {
    const t = terminal();
    await t.run(['profile', 'set', 'dev', '--url', url, '--issuer', h.issuer.issuer]);
    const login = await t.run(['login', '--timeout', '1']);
    expect(login.code).toBe(6);
    expect(t.opened).toEqual([]);
    expect(login.stderr).toMatch(/and confirm the code [B-Z]{4}-[B-Z]{4}/);
    expect(login.stderr).toContain('GATEHOUSE_CLI_LOGIN_TIMEOUT');
  });
});
