// The `gatehouse` command against a real bridge (listening on loopback), a real worker and the
// run's Temporal dev server. Most cases run the command in-process (runCommand, real HTTP, real
// files); one spawns the command's process entry from the sources (src/command/main.ts, through
// tsx) to check what a shell sees: the exit code of `run --wait`. The compiled bin, packed and
// installed, is test/integration/cli-install.test.ts.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeliveryList, JobList, JobView, Whoami } from '../../src/client/index.js';
import { runCommand } from '../../src/command/program.js';
import { freePort } from '../../src/dev/temporal-dev-server.js';
import { useGatehouse } from '../helpers/gatehouse.js';
import { deployApi } from '../helpers/queries.js';

const h = useGatehouse();
let url: string;
let inputFile: string;

beforeAll(async () => {
  const port = await freePort();
  await h.app.listen({ host: '127.0.0.1', port });
  url = `http://127.0.0.1:${port}`;
  inputFile = join(mkdtempSync(join(tmpdir(), 'gatehouse-cli-')), 'deploy.json');
  writeFileSync(inputFile, JSON.stringify(deployApi));
});

afterAll(async () => {
  await h.app.close();
});

interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the command in-process, stdout not a terminal, with its own config dir. */
async function gatehouse(argv: string[], env: Record<string, string>): Promise<Ran> {
  let stdout = '';
  let stderr = '';
  const sink = (write: (text: string) => void) => ({ write: (chunk: string) => (write(String(chunk)), true) });
  const code = await runCommand(argv, {
    stdout: sink((text) => (stdout += text)) as unknown as NodeJS.WritableStream,
    stderr: sink((text) => (stderr += text)) as unknown as NodeJS.WritableStream,
    env: { XDG_CONFIG_HOME: mkdtempSync(join(tmpdir(), 'gatehouse-xdg-')), GATEHOUSE_URL: url, ...env },
  });
  return { code, stdout, stderr };
}

describe('the gatehouse command with GATEHOUSE_TOKEN', () => {
  it('whoami --json prints the principal as the bridge sees it', async () => {
    const { token, principal } = await h.caller({ groups: ['maintainers'] });
    const ran = await gatehouse(['whoami', '--json'], { GATEHOUSE_TOKEN: token });
    expect(ran.code, ran.stderr).toBe(0);
    const me = JSON.parse(ran.stdout) as Whoami;
    expect(me).toMatchObject({ principal, groups: ['maintainers'], admin: false, method: 'jwt' });
  });

  it('run --wait of a policy-check prints the final state and exits 0; jobs get and list --json agree', async () => {
    const { token, principal } = await h.caller({ groups: ['maintainers'] });
    const ran = await gatehouse(['run', 'policy-check', '--input', inputFile, '--wait', '--json'], {
      GATEHOUSE_TOKEN: token,
    });
    expect(ran.code, ran.stderr).toBe(0);
    const job = JSON.parse(ran.stdout) as JobView;
    expect(job).toMatchObject({ status: 'COMPLETED', owner: principal, route: 'policy-check' });
    expect(job.result).toMatchObject({ decision: 'allow', requestedBy: principal });

    const got = await gatehouse(['jobs', 'get', job.jobId, '--json'], { GATEHOUSE_TOKEN: token });
    expect(JSON.parse(got.stdout)).toEqual(job);
    const listed = await gatehouse(['jobs', 'list', '--json'], { GATEHOUSE_TOKEN: token });
    expect((JSON.parse(listed.stdout) as JobList).jobs.map((j) => j.jobId)).toContain(job.jobId);
    // Not a terminal: plain tab-separated lines, no header, no colour codes.
    const plain = await gatehouse(['jobs', 'list'], { GATEHOUSE_TOKEN: token });
    expect(plain.stdout.split('\n')).toContain(`${job.jobId}\tCOMPLETED\tpolicy-check\t${job.startedAt}`);
    expect(plain.stdout).not.toContain('\u001b[');
  });

  it('run with the same --key answers the same job', async () => {
    const { token } = await h.caller({ groups: ['maintainers'] });
    const key = `cli-${Date.now()}`;
    const first = await gatehouse(['run', 'policy-check', '-i', inputFile, '--key', key], { GATEHOUSE_TOKEN: token });
    const second = await gatehouse(['run', 'policy-check', '-i', inputFile, '--key', key], { GATEHOUSE_TOKEN: token });
    expect(first.code, first.stderr).toBe(0);
    expect(second.stdout).toBe(first.stdout);
  });

  it('jobs rerun --wait runs the job again as a new job linked to the first; the same --key answers the same rerun', async () => {
    const { token, principal } = await h.caller({ groups: ['maintainers'] });
    const first = JSON.parse(
      (await gatehouse(['run', 'policy-check', '-i', inputFile, '--wait', '--json'], { GATEHOUSE_TOKEN: token }))
        .stdout,
    ) as JobView;
    const key = `rerun-${Date.now()}`;
    const ran = await gatehouse(['jobs', 'rerun', first.jobId, '--key', key, '--wait', '--json'], {
      GATEHOUSE_TOKEN: token,
    });
    expect(ran.code, ran.stderr).toBe(0);
    const again = JSON.parse(ran.stdout) as JobView;
    expect(again.jobId).not.toBe(first.jobId);
    expect(again).toMatchObject({ status: 'COMPLETED', owner: principal, route: 'policy-check' });
    const repeated = await gatehouse(['jobs', 'rerun', first.jobId, '--key', key], { GATEHOUSE_TOKEN: token });
    expect(repeated.stdout.trim()).toBe(again.jobId);
    // Someone who may not see the first job cannot run it again: the API's 404, exit 4.
    const stranger = await h.caller({ groups: ['maintainers'] });
    const refused = await gatehouse(['jobs', 'rerun', first.jobId], { GATEHOUSE_TOKEN: stranger.token });
    expect(refused.code).toBe(4);
    expect(refused.stderr).toContain('GATEHOUSE_JOB_NOT_FOUND');
  });

  it('run --follow prints the events, then the final state, and exits 0', async () => {
    const { token } = await h.caller({ groups: ['maintainers'] });
    const ran = await gatehouse(['run', 'policy-check', '-i', inputFile, '--follow'], { GATEHOUSE_TOKEN: token });
    expect(ran.code, ran.stderr).toBe(0);
    expect(ran.stdout).toMatch(/^started policy-check\.\S+ \(policy-check\)$/m);
    expect(ran.stdout).toMatch(/^status\tCOMPLETED$/m);
  });

  it("refuses a non-admin's deliveries list with the API's code, and an admin gets the log", async () => {
    const { token } = await h.caller({ groups: ['maintainers'] });
    const refused = await gatehouse(['deliveries', 'list'], { GATEHOUSE_TOKEN: token });
    expect(refused.code).toBe(4);
    expect(refused.stderr).toContain('GATEHOUSE_FORBIDDEN');
    expect(refused.stderr).toContain('HTTP 403');
    expect(refused.stderr).not.toMatch(/\n\s+at /);
    const admin = await h.caller({ groups: ['gatehouse-admins'] });
    const listed = await gatehouse(['deliveries', 'list', '--json'], { GATEHOUSE_TOKEN: admin.token });
    expect(listed.code, listed.stderr).toBe(0);
    expect(Array.isArray((JSON.parse(listed.stdout) as DeliveryList).deliveries)).toBe(true);
  });

  it('shows a bad input as the problem the API answered, and starts nothing', async () => {
    const { token } = await h.caller({ groups: ['maintainers'] });
    const bad = join(mkdtempSync(join(tmpdir(), 'gatehouse-cli-')), 'bad.json');
    writeFileSync(bad, JSON.stringify({ action: { type: 'Gatehouse::Action' } }));
    const ran = await gatehouse(['run', 'policy-check', '--input', bad, '--wait'], { GATEHOUSE_TOKEN: token });
    expect(ran.code).toBe(4);
    expect(ran.stderr).toMatch(/GATEHOUSE_VALIDATION_FAILED, HTTP 400/);
    expect(ran.stdout).toBe('');
  });

  it('routes lists what the caller may start, with the input schema', async () => {
    const { token } = await h.caller({ groups: [] });
    const ran = await gatehouse(['routes', 'policy-check', '--json'], { GATEHOUSE_TOKEN: token });
    expect(ran.code, ran.stderr).toBe(0);
    const [route] = JSON.parse(ran.stdout) as Array<{ route: string; input: { properties: Record<string, unknown> } }>;
    expect(route!.route).toBe('policy-check');
    expect(route!.input.properties.action).toMatchObject({ required: ['type', 'id'] });
  });

  it('keeps profiles in $XDG_CONFIG_HOME/gatehouse/config.json, mode 0600', async () => {
    const xdg = mkdtempSync(join(tmpdir(), 'gatehouse-xdg-'));
    const set = await runCommand(['profile', 'set', 'local', '--url', url], {
      stdout: process.stdout,
      stderr: { write: () => true } as unknown as NodeJS.WritableStream,
      env: { XDG_CONFIG_HOME: xdg },
    });
    expect(set).toBe(0);
    const path = join(xdg, 'gatehouse', 'config.json');
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(path, 'utf8'))).toEqual({ current: 'local', profiles: { local: { url } } });
  });

  it('as a process: `run --wait` exits with the code of how the job ended', async () => {
    const { token } = await h.caller({ groups: ['maintainers'] });
    const run = promisify(execFile);
    const env = {
      ...process.env,
      XDG_CONFIG_HOME: mkdtempSync(join(tmpdir(), 'gatehouse-xdg-')),
      GATEHOUSE_URL: url,
      GATEHOUSE_TOKEN: token,
    };
    const gatehouse = ['--import', 'tsx', 'src/command/main.ts'];
    const done = await run('node', [...gatehouse, 'run', 'policy-check', '--input', inputFile, '--wait'], { env });
    expect(done.stdout).toMatch(/^status\tCOMPLETED$/m);
    const failed = await run('node', [...gatehouse, 'jobs', 'get', 'policy-check.nosuchjob'], { env }).catch(
      (error: { code: number; stderr: string }) => error,
    );
    expect(failed).toMatchObject({ code: 4 });
    expect((failed as { stderr: string }).stderr).toContain('GATEHOUSE_JOB_NOT_FOUND');
  });
});
