// The gatehouse command as someone installs it: `npm pack` of the repository (npm's prepare
// step compiles the command into the package), `npm install -g` of that tarball into a temporary
// prefix, and the installed `gatehouse` run as a process with a clean environment: its version,
// and `whoami` against a real bridge. The package carries compiled JavaScript only, and the
// install has no tsx, so nothing is compiled at run time. `npx --no-install gatehouse` in the
// checkout runs the same bin.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Whoami } from '../../src/client/index.js';
import { useGatehouse } from '../helpers/gatehouse.js';

const run = promisify(execFile);
const h = useGatehouse({ worker: false });
const dir = mkdtempSync(join(tmpdir(), 'gatehouse-install-'));
const prefix = join(dir, 'prefix');
const { version } = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
let url: string;
let tarball: string;

beforeAll(async () => {
  await h.app.listen({ host: '127.0.0.1', port: 0 });
  url = `http://127.0.0.1:${(h.app.server.address() as { port: number }).port}`;
  await run('npm', ['pack', '--silent', '--pack-destination', dir], { maxBuffer: 16 << 20 });
  tarball = join(
    dir,
    readdirSync(dir).find((name) => name.endsWith('.tgz'))!,
  );
  // --prefer-offline: the dependencies come from npm's cache where it has them.
  await run('npm', ['install', '-g', '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund', tarball], {
    maxBuffer: 16 << 20,
  });
}, 600_000);

afterAll(async () => {
  await h.app.close();
  // The install holds the service's dependencies too (about 400 MB).
  rmSync(dir, { recursive: true, force: true });
});

/** The environment a person's shell has: no vitest or tsx loaders, only what the command reads. */
function shellEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  return {
    PATH: `${join(prefix, 'bin')}:${process.env.PATH}`,
    HOME: dir,
    XDG_CONFIG_HOME: mkdtempSync(join(dir, 'xdg-')),
    ...extra,
  };
}

describe('the installed gatehouse command', () => {
  it('is a package of compiled JavaScript: the bin, the command and the client, no TypeScript to run', async () => {
    const { stdout } = await run('tar', ['-tzf', tarball]);
    const files = stdout.split('\n').filter(Boolean);
    expect(files).toEqual(
      expect.arrayContaining([
        'package/package.json',
        'package/bin/gatehouse.js',
        'package/dist/src/command/main.js',
        'package/dist/src/command/program.js',
        'package/dist/src/client/index.js',
      ]),
    );
    expect(files.filter((file) => /^package\/(src\/command|src\/bridge|test|scripts)\//.test(file))).toEqual([]);
    const installed = join(prefix, 'lib', 'node_modules', 'gatehouse');
    expect(existsSync(join(installed, 'node_modules', 'tsx'))).toBe(false);
    expect(existsSync(join(installed, 'node_modules', 'typescript'))).toBe(false);
  });

  it('prints its version', async () => {
    const { stdout } = await run('gatehouse', ['--version'], { env: shellEnv({}) });
    expect(stdout.trim()).toBe(version);
  });

  it('whoami against a running bridge prints the principal', async () => {
    const { token, principal } = await h.caller({ groups: ['maintainers'] });
    const { stdout } = await run('gatehouse', ['whoami', '--json'], {
      env: shellEnv({ GATEHOUSE_URL: url, GATEHOUSE_TOKEN: token }),
    });
    expect(JSON.parse(stdout) as Whoami).toMatchObject({ principal, groups: ['maintainers'] });
    const refused = await run('gatehouse', ['whoami'], {
      env: shellEnv({ GATEHOUSE_URL: url, GATEHOUSE_TOKEN: 'not-a-token' }),
    }).catch((error: { code: number; stderr: string }) => error);
    expect(refused).toMatchObject({ code: 6 });
    expect((refused as { stderr: string }).stderr).toContain('GATEHOUSE_INVALID_TOKEN');
  });

  it('runs with npx from the checkout (the same bin, never a package of that name from the registry)', async () => {
    const { token, principal } = await h.caller();
    // A person's shell in the checkout: not the npm_* settings of the `npm test` running this file.
    const shell = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^npm_/i.test(name)));
    const built = statSync('dist/src/command/main.js').mtimeMs;
    const { stdout } = await run('npx', ['--no-install', 'gatehouse', 'whoami', '--json'], {
      env: {
        ...shell,
        XDG_CONFIG_HOME: mkdtempSync(join(dir, 'xdg-')),
        GATEHOUSE_URL: url,
        GATEHOUSE_TOKEN: token,
      },
      // A hang is reported with what npx printed, not as the test's timeout.
      timeout: 45_000,
    });
    expect((JSON.parse(stdout) as Whoami).principal).toBe(principal);
    // npx links the checkout into its cache and runs its prepare script; that runs what `npm ci`
    // compiled rather than compiling it again.
    expect(statSync('dist/src/command/main.js').mtimeMs).toBe(built);
  }, 60_000);
});
