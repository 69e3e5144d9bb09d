// `gatehouse login` against the development issuer's device authorization grant (RFC 8628,
// src/dev/dev-issuer-device.ts) and a real bridge that trusts that issuer: the person's side is
// played by posting the approval form, as the issuer's page does. Tokens land in the profile with
// mode 0600, an expired access token is refreshed without asking, a denied sign-in and a revoked
// session end with "signed out".
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Whoami } from '../../src/client/index.js';
import { runCommand } from '../../src/command/program.js';
import { deviceGrant } from '../../src/dev/dev-issuer-device.js';
import { jwtPrincipal } from '../../src/core/principal.js';
import { freePort } from '../../src/dev/temporal-dev-server.js';
import { useGatehouse } from '../helpers/gatehouse.js';

// Access tokens that live 20 s: under the command's 30 s margin, so each use refreshes first.
const grant = deviceGrant({ interval: 1, accessTokenLifetime: 20 });
const h = useGatehouse({ worker: false, issuer: { extensions: [grant] } });
let url: string;

beforeAll(async () => {
  const port = await freePort();
  await h.app.listen({ host: '127.0.0.1', port });
  url = `http://127.0.0.1:${port}`;
});

afterAll(async () => {
  await h.app.close();
});

/** One person's terminal: a config dir of its own, a profile pointing at the bridge and the issuer. */
function terminal() {
  const env = { XDG_CONFIG_HOME: mkdtempSync(join(tmpdir(), 'gatehouse-xdg-')) };
  const run = async (argv: string[], onStderr: (text: string) => void = () => {}) => {
    let stdout = '';
    let stderr = '';
    const code = await runCommand(argv, {
      stdout: { write: (chunk: string) => ((stdout += chunk), true) } as unknown as NodeJS.WritableStream,
      stderr: {
        write: (chunk: string) => {
          stderr += chunk;
          onStderr(stderr);
          return true;
        },
      } as unknown as NodeJS.WritableStream,
      env,
    });
    return { code, stdout, stderr };
  };
  return { env, run };
}

/** Approves (or denies) the code the command printed, through the issuer's form, as a person would. */
function answerPrompt(how: { sub: string; groups?: string[] } | 'deny') {
  let answered = false;
  return (stderr: string) => {
    const code = /code ([B-Z]{4}-[B-Z]{4})/.exec(stderr)?.[1];
    if (code === undefined || answered) return;
    answered = true;
    const form = new URLSearchParams({ user_code: code });
    if (how === 'deny') form.set('deny', '1');
    else {
      form.set('sub', how.sub);
      form.set('groups', (how.groups ?? []).join(','));
    }
    void fetch(`${h.issuer.issuer}/device`, { method: 'POST', body: form });
  };
}

describe('gatehouse login (device authorization grant)', () => {
  it('signs in, keeps the tokens 0600, refreshes an expired access token, and signs out', async () => {
    const t = terminal();
    expect((await t.run(['profile', 'set', 'dev', '--url', url, '--issuer', h.issuer.issuer])).code).toBe(0);
    const login = await t.run(['login'], answerPrompt({ sub: 'ada', groups: ['maintainers'] }));
    expect(login.code, login.stderr).toBe(0);
    const principal = jwtPrincipal(h.issuer.issuer, 'ada');
    expect(login.stderr).toContain(`${h.issuer.issuer}/device?user_code=`);
    expect(login.stderr).toContain(`signed in as ${principal}`);

    const tokensPath = join(t.env.XDG_CONFIG_HOME, 'gatehouse', 'tokens', 'dev.json');
    expect(statSync(tokensPath).mode & 0o777).toBe(0o600);
    const first = JSON.parse(readFileSync(tokensPath, 'utf8')) as { accessToken: string; refreshToken: string };

    const refreshesBefore = grant.refreshes;
    const me = await t.run(['whoami', '--json']);
    expect(me.code, me.stderr).toBe(0);
    expect(JSON.parse(me.stdout) as Whoami).toMatchObject({ principal, groups: ['maintainers'] });
    expect(grant.refreshes).toBeGreaterThan(refreshesBefore);
    const second = JSON.parse(readFileSync(tokensPath, 'utf8')) as { accessToken: string; refreshToken: string };
    expect(second.accessToken).not.toBe(first.accessToken);
    expect(second.refreshToken).not.toBe(first.refreshToken);

    const out = await t.run(['logout']);
    expect(out.code).toBe(0);
    expect(out.stderr).toContain('refresh token revoked');
    const after = await t.run(['whoami']);
    expect(after.code).toBe(6);
    expect(after.stderr).toContain('GATEHOUSE_CLI_SIGNED_OUT');
  });

  it('asks to sign in again when the issuer refuses the refresh token (revoked)', async () => {
    const t = terminal();
    await t.run(['profile', 'set', 'dev', '--url', url, '--issuer', h.issuer.issuer]);
    expect((await t.run(['login'], answerPrompt({ sub: 'grace' }))).code).toBe(0);
    const tokensPath = join(t.env.XDG_CONFIG_HOME, 'gatehouse', 'tokens', 'dev.json');
    const { refreshToken } = JSON.parse(readFileSync(tokensPath, 'utf8')) as { refreshToken: string };
    await fetch(`${h.issuer.issuer}/revoke`, { method: 'POST', body: new URLSearchParams({ token: refreshToken }) });
    const me = await t.run(['whoami']);
    expect(me.code).toBe(6);
    expect(me.stderr).toMatch(/Signed out \(GATEHOUSE_CLI_SIGNED_OUT\)[\s\S]*invalid_grant/);
    expect(() => statSync(tokensPath)).toThrow();
  });

  it('fails a sign-in the person denies, and keeps no tokens', async () => {
    const t = terminal();
    await t.run(['profile', 'set', 'dev', '--url', url, '--issuer', h.issuer.issuer]);
    const login = await t.run(['login'], answerPrompt('deny'));
    expect(login.code).toBe(6);
    expect(login.stderr).toMatch(/GATEHOUSE_CLI_LOGIN_FAILED[\s\S]*access_denied/);
    expect(() => statSync(join(t.env.XDG_CONFIG_HOME, 'gatehouse', 'tokens', 'dev.json'))).toThrow();
  });
});
