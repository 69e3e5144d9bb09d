// The CI pipeline against a real Temporal and worker: a push webhook (and a `ci` job) on a local
// Git repository runs through the Cedar gate, the steps, commit-status reporting (to a local
// server that keeps the providers' API shapes) and the usage ledger.
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { fakeStatusApis, startFakeGitHosts } from '../helpers/fake-git-hosts.js';
import { gitServerOverlay, startGitServer } from '../helpers/git-server.js';
import { testSecrets, useGatehouse, type Caller } from '../helpers/gatehouse.js';
import { deliver, githubDelivery, githubPush } from '../helpers/webhooks.js';

/** Seconds of the slow step's grandchild `sleep`: unique, so the test can find it in /proc. */
const slowSeconds = 7000 + Math.floor(Math.random() * 2000);
/** Seconds of the `sleep` two jobs run at once, to read their uids from outside. */
const idleSeconds = 9000 + Math.floor(Math.random() * 900);

const g = useGatehouse({
  name: 'gatehouse-ci',
  fakes: {
    hosts: () => startFakeGitHosts(testSecrets.TEST_STATUS_TOKEN),
    git: () =>
      startGitServer({
        'build.sh': '#!/bin/sh\nset -e\ntest "$(cat VERSION)" = "1.2.3"\necho built "$(git rev-parse HEAD)"\n',
        VERSION: '1.2.3',
        'slow.sh': '#!/bin/sh\nsleep "$1" &\nwait\n',
      }),
  },
  overlay: ({ fakes }) => {
    const gitPort = new URL(fakes.git.url).port;
    // A scratch directory of this file's own: another file's killed worker may leave a checkout behind.
    const scratchDir = mkdtempSync(join(tmpdir(), 'gatehouse-scratch-'));
    return {
      ci: {
        ...gitServerOverlay(fakes.git).ci,
        sandbox: {
          // The git server is the one host network steps may reach (by its address: the name
          // localhost resolves to loopback, which is always refused). The dev server has no auth.
          egress: { allow: [`127.0.0.1:${gitPort}`, `localhost:${gitPort}`] },
          allowNetworkWithoutTemporalAuth: true,
        },
        scratchDir,
        statusApis: fakeStatusApis(fakes.hosts),
        pipelines: [
          {
            repositories: ['acme-sandbox/closed'],
            runner: 'steps',
            env: { ECHO_ME: testSecrets.TEST_STATUS_TOKEN },
            steps: [
              { name: 'env', run: 'env | sort; echo "echo: $ECHO_ME"', timeout: '1m' },
              { name: 'whoami', run: 'id -u; pwd', timeout: '1m' },
              {
                name: 'others',
                run: `test ! -e ${scratchDir} && test ! -e ${process.cwd()}/config && test ! -e /work`,
                timeout: '1m',
              },
              { name: 'network', run: `node -e "${connectProbe}" ${temporalPort()}; echo "exit=$?"`, timeout: '1m' },
              { name: 'escape', run: escapeProbe, timeout: '1m' },
            ],
          },
          {
            repositories: ['acme-sandbox/open'],
            runner: 'steps',
            network: true,
            steps: [
              { name: 'direct', run: `node -e "${connectProbe}" ${temporalPort()}; echo "exit=$?"`, timeout: '1m' },
              { name: 'temporal', run: `node -e "${proxyProbe}" 127.0.0.1:${temporalPort()}`, timeout: '1m' },
              { name: 'by-name', run: `node -e "${proxyProbe}" localhost:${gitPort}`, timeout: '1m' },
              {
                name: 'allowed',
                run: `env -u no_proxy -u NO_PROXY git clone -q ${fakes.git.url}/github/acme/api.git /tmp/c && git -C /tmp/c rev-parse HEAD`,
                timeout: '1m',
              },
              { name: 'escape', run: escapeProbe, timeout: '1m' },
            ],
          },
          {
            repositories: ['acme-idle/*'],
            runner: 'steps',
            steps: [{ name: 'idle', run: `sleep ${idleSeconds}`, timeout: '5m' }],
          },
          {
            repositories: ['Codertocat/*', 'acme/*'],
            runner: 'steps',
            steps: [
              { name: 'checkout-is-exact', run: `test "$(git rev-parse HEAD)" = "${fakes.git.sha}"`, timeout: '10m' },
              { name: 'build', run: './build.sh', timeout: '30s' },
            ],
          },
          {
            repositories: ['acme-broken/*'],
            runner: 'steps',
            steps: [
              { name: 'fails', run: 'echo boom >&2; exit 3', timeout: '10m' },
              { name: 'never', run: 'true', timeout: '10m' },
            ],
          },
          {
            repositories: ['acme-slow/*'],
            runner: 'steps',
            steps: [{ name: 'slow', run: `./slow.sh ${slowSeconds}`, timeout: '10m' }],
          },
          {
            repositories: ['acme-long/*'],
            runner: 'steps',
            steps: [{ name: 'long', run: 'sleep 600', timeout: '15m' }],
          },
        ],
      },
    };
  },
});
/** A job as the steps tests read it. */
type Job = { status: string; result: { steps: { steps: Array<{ name: string; output: string; exitCode: number }> } } };
let admin: Caller;

beforeAll(async () => {
  admin = await g.caller({ sub: 'ops', groups: ['gatehouse-admins'] });
});

/** A step that tries to open a TCP connection to loopback:<port>: exit 0 connected, 3 refused. */
const connectProbe =
  "require('net').connect(Number(process.argv[1]), '127.0.0.1').on('connect', () => process.exit(0)).on('error', () => process.exit(3))";
const temporalPort = () => inject('temporalAddress').split(':')[1];
/** Asks the step's egress proxy (HTTP_PROXY) for a tunnel to argv[1]; prints the answer's status line. */
const proxyProbe =
  "const s = require('net').connect(3128, '127.0.0.1', () => s.write('CONNECT ' + process.argv[1] + ' HTTP/1.1\\r\\n\\r\\n')); s.once('data', (d) => { console.log(String(d).split('\\r\\n')[0]); process.exit(0); }); s.on('error', (e) => { console.log('error ' + e.code); process.exit(0); })";
/**
 * What a sandbox escape starts from: new user, network and mount namespaces, mounts, keyrings,
 * eBPF, userfaultfd, io_uring, perf events. Prints `open <what>` for each that works.
 */
const escapeProbe = [
  'for ns in "-U -r" -n -m "-U -r -n"; do unshare $ns true 2>/dev/null && echo "open unshare $ns"; done',
  'mount -t tmpfs none /tmp 2>/dev/null && echo "open mount"',
  `python3 -c '${[
    'import ctypes, platform',
    'libc = ctypes.CDLL(None, use_errno=True)',
    // Syscall numbers differ by architecture: x86_64, else aarch64.
    'x86 = platform.machine() == "x86_64"',
    'calls = {"keyctl": (250 if x86 else 219, 0, 0), "bpf": (321 if x86 else 280, 0, 0), "userfaultfd": (323 if x86 else 282, 0, 0), "io_uring_setup": (425, 1, 0), "perf_event_open": (298 if x86 else 241, 0, 0), "clone-newuser": (56 if x86 else 220, 0x10000011, 0)}',
    'for name, (nr, a, b) in calls.items():',
    '    r = libc.syscall(nr, a, b, 0, 0, 0)',
    '    e = ctypes.get_errno()',
    '    print("open " + name if r >= 0 or e not in (1, 38) else "closed " + name)',
  ].join('\n')}'`,
  'echo probed',
].join('\n');

/** The pids of the running processes with exactly this command line. */
function findProcesses(argv: string[]): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^[0-9]+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8') === `${argv.join('\0')}\0` && isRunning(Number(entry)))
        found.push(Number(entry));
    } catch {
      // gone
    }
  }
  return found;
}

/** The pid of a process with exactly this command line, or 0. */
const findProcess = (argv: string[]) => findProcesses(argv)[0] ?? 0;

/** Running, not merely present: a killed orphan stays a zombie where no init process reaps it. */
function isRunning(pid: number): boolean {
  try {
    const state = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0];
    return state !== undefined && state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

/**
 * The job once it has closed: a long-poll answers after 5 s at most, and a pipeline of several
 * sandboxed steps (each a bubblewrap start) may take longer on a busy machine, so poll again
 * while it runs; the test's own timeout bounds the wait.
 */
async function closedJob(jobId: string) {
  let job = await admin.read(jobId, { wait: 5 });
  while (job.status === 'RUNNING') job = await admin.read(jobId, { wait: 5 });
  return job as Job;
}

async function usage(owner: string) {
  const { jobId } = await admin.start('billing-usage', {
    owner,
    from: '2000-01-01T00:00:00Z',
    to: '2100-01-01T00:00:00Z',
  });
  return (await admin.read(jobId, { wait: 5 })).result as {
    totals: Array<{ owner: string; metric: string; quantity: number }>;
  };
}

describe('ciPipeline', () => {
  it('runs a push webhook through policy, the steps at the exact commit, commit statuses and the ledger', async () => {
    const push = githubPush(g.fakes.git.sha, `${g.fakes.git.url}/github/Codertocat/Hello-World.git`);
    const answer = await deliver(
      g.app,
      githubDelivery(push, { secret: testSecrets.TEST_GITHUB_SECRET, event: 'push', path: '/v1/webhooks/github/ci' }),
    );
    expect(answer.statusCode).toBe(202);
    const jobId = answer.json().jobId as string;
    const job = await closedJob(jobId);
    expect(job.status, JSON.stringify(job)).toBe('COMPLETED');
    expect(job.result).toMatchObject({
      outcome: 'passed',
      runner: 'steps',
      sha: g.fakes.git.sha,
      policies: ['maintainers-run-ci'],
      statusErrors: [],
    });
    expect(job.result.steps.steps.map((s: { name: string; exitCode: number }) => [s.name, s.exitCode])).toEqual([
      ['checkout-is-exact', 0],
      ['build', 0],
    ]);
    expect(job.result.steps.steps[1]!.output).toContain(`built ${g.fakes.git.sha}`);

    const mine = g.fakes.hosts.statuses.filter((s) => s.url.endsWith(jobId));
    expect(mine.map((s) => [s.provider, s.state])).toEqual([
      ['github', 'pending'],
      ['github', 'success'],
    ]);
    expect(mine[0]).toMatchObject({
      repository: 'Codertocat/Hello-World',
      sha: g.fakes.git.sha,
      context: 'gatehouse/ci',
      url: `https://gatehouse.test/v1/jobs/${jobId}`,
    });
    expect(readdirSync(g.config.ci.scratchDir)).toEqual([]);

    const totals = (await usage('webhook:github:21031067')).totals;
    expect(totals.find((t) => t.metric === 'jobs')?.quantity).toBeGreaterThanOrEqual(1);
  });

  it("reports in each provider's own shape", async () => {
    const me = await g.caller({ groups: ['maintainers'] });
    for (const provider of ['gitlab', 'gitea', 'bitbucket'] as const) {
      const { jobId } = await me.start('ci', {
        provider,
        repository: { fullName: 'acme/api' },
        after: g.fakes.git.sha,
      });
      expect((await closedJob(jobId)).status).toBe('COMPLETED');
      const states = g.fakes.hosts.statuses.filter((s) => s.url.endsWith(jobId)).map((s) => s.state);
      expect(states).toEqual(
        { gitlab: ['running', 'success'], gitea: ['pending', 'success'], bitbucket: ['INPROGRESS', 'SUCCESSFUL'] }[
          provider
        ],
      );
    }
  });

  it('keeps reporting while the status API fails, and the job passes once it recovers', async () => {
    const me = await g.caller({ groups: ['maintainers'] });
    g.fakes.hosts.failNext(1);
    const { jobId } = await me.start('ci', {
      provider: 'github',
      repository: { fullName: 'acme/api' },
      after: g.fakes.git.sha,
    });
    await vi.waitFor(async () => expect((await admin.read(jobId, { wait: 5 })).status).toBe('COMPLETED'), {
      timeout: 30_000,
      interval: 500,
    });
    expect(g.fakes.hosts.statuses.filter((s) => s.url.endsWith(jobId)).map((s) => s.state)).toEqual([
      'pending',
      'success',
    ]);
  });

  it('fails with PipelineFailed at the failing step, reports failure and still records usage', async () => {
    const me = await g.caller({ groups: ['maintainers'] });
    const { jobId } = await me.start('ci', {
      provider: 'github',
      repository: { fullName: 'acme-broken/x' },
      after: g.fakes.git.sha,
    });
    const job = await admin.read(jobId, { wait: 5 });
    expect(job.status).toBe('FAILED');
    expect(job.failure).toMatchObject({ type: 'PipelineFailed', message: 'pipeline failed at step fails' });
    expect(g.fakes.hosts.statuses.filter((s) => s.url.endsWith(jobId)).map((s) => s.state)).toEqual([
      'pending',
      'failure',
    ]);
    const principal = me.principal;
    expect((await usage(principal)).totals.find((t) => t.metric === 'jobs')).toMatchObject({
      owner: principal,
      quantity: 1,
    });
  });

  it('denies CI to a caller Cedar does not permit: PolicyDenied, no steps, no status', async () => {
    const me = await g.caller();
    const { jobId } = await me.start('ci', {
      provider: 'github',
      repository: { fullName: 'acme/api' },
      after: g.fakes.git.sha,
    });
    const job = await admin.read(jobId, { wait: 5 });
    expect(job.status).toBe('FAILED');
    expect(job.failure).toMatchObject({ type: 'PolicyDenied' });
    expect(g.fakes.hosts.statuses.filter((s) => s.url.endsWith(jobId))).toEqual([]);
  });

  it('cancels a running step: the process tree is killed, the checkout removed, the status reported', async () => {
    const me = await g.caller({ groups: ['maintainers'] });
    const { jobId } = await me.start('ci', {
      provider: 'github',
      repository: { fullName: 'acme-slow/x' },
      after: g.fakes.git.sha,
    });
    let grandchild = 0;
    await vi.waitFor(() => expect((grandchild = findProcess(['sleep', String(slowSeconds)]))).toBeGreaterThan(0), {
      timeout: 15_000,
      interval: 100,
    });
    expect(isRunning(grandchild)).toBe(true);
    const cancel = await me.cancel(jobId);
    expect(cancel.statusCode).toBe(202);
    await vi.waitFor(async () => expect((await admin.read(jobId, { wait: 5 })).status).toBe('CANCELED'), {
      timeout: 20_000,
      interval: 500,
    });
    await vi.waitFor(() => expect(isRunning(grandchild)).toBe(false), { timeout: 5_000, interval: 100 });
    expect(readdirSync(g.config.ci.scratchDir)).toEqual([]);
    expect(g.fakes.hosts.statuses.filter((s) => s.url.endsWith(jobId)).map((s) => s.state)).toEqual([
      'pending',
      'error',
    ]);
  });
});

describe('superseded runs', () => {
  it('cancels the older run of the same branch when a newer push arrives, and leaves other branches alone', async () => {
    const me = await g.caller({ groups: ['maintainers'] });
    const input = (branch: string) => ({
      provider: 'github',
      repository: { fullName: 'acme-long/app' },
      after: g.fakes.git.sha,
      branch,
      ref: `refs/heads/${branch}`,
    });
    const { jobId: older } = await me.start('ci', input('main'));
    const { jobId: otherBranch } = await me.start('ci', input('feature'));
    await vi.waitFor(
      async () => {
        const status = await g.app.temporal.client.workflow.getHandle(older).query<{ phase: string }>('status');
        expect(status.phase).toBe('running');
      },
      { timeout: 10_000, interval: 200 },
    );
    const { jobId: newer } = await me.start('ci', input('main'));
    const t0 = Date.now();
    await vi.waitFor(async () => expect((await admin.read(older, { wait: 5 })).status).toBe('CANCELED'), {
      timeout: 20_000,
      interval: 300,
    });
    console.info(`superseded run cancelled ${Date.now() - t0} ms after the newer push`);
    const status = await g.app.temporal.client.workflow.getHandle(newer).query<{ superseded: string[] }>('status');
    expect(status.superseded).toEqual([older]);
    expect((await admin.read(otherBranch, { wait: 5 })).status).toBe('RUNNING');
    for (const jobId of [newer, otherBranch]) await me.cancel(jobId);
  }, 60_000);
});

describe('billing-usage', () => {
  it('lets an owner read only their own usage', async () => {
    const owner = await g.caller();
    const own = await owner.start('billing-usage', { from: '2000-01-01T00:00:00Z', to: '2100-01-01T00:00:00Z' });
    expect((await admin.read(own.jobId, { wait: 5 })).status).toBe('COMPLETED');
    const other = await owner.start('billing-usage', {
      owner: '*',
      from: '2000-01-01T00:00:00Z',
      to: '2100-01-01T00:00:00Z',
    });
    const denied = await admin.read(other.jobId, { wait: 5 });
    expect(denied.status).toBe('FAILED');
    expect(denied.failure).toMatchObject({ type: 'BillingAccessDenied' });
  });
});

describe('the step sandbox', () => {
  const stepsOf = async (fullName: string) => {
    const me = await g.caller({ groups: ['maintainers'] });
    const { jobId } = await me.start('ci', { provider: 'github', repository: { fullName }, after: g.fakes.git.sha });
    const job = await closedJob(jobId);
    expect(job.status, JSON.stringify(job)).toBe('COMPLETED');
    return Object.fromEntries(
      (job.result.steps.steps as Array<{ name: string; output: string; exitCode: number }>).map((s) => [s.name, s]),
    );
  };

  it('gives steps an explicit environment: no worker secret, no worker variable, secrets redacted from output', async () => {
    process.env.GATEHOUSE_TEST_CANARY = 'canary-in-the-worker-environment';
    const steps = await stepsOf('acme-sandbox/closed');
    const env = steps.env!.output;
    expect(env).toContain('CI=true');
    expect(env).toContain(`GATEHOUSE_SHA=${g.fakes.git.sha}`);
    expect(env).not.toContain('canary-in-the-worker-environment');
    for (const [name, value] of Object.entries(testSecrets)) {
      expect(env, name).not.toContain(value);
      expect(env, name).not.toContain(name);
    }
    // A pipeline variable that happens to hold a secret's value is redacted before it is kept.
    expect(env).toContain('echo: [redacted]');
    expect(env).not.toContain(testSecrets.TEST_STATUS_TOKEN);
  });

  it("runs steps unprivileged, in /workspace, seeing no other job's checkout and none of the worker's files", async () => {
    const steps = await stepsOf('acme-sandbox/closed');
    expect(steps.whoami!.output).toMatch(/^60[0-9]{3}\n\/workspace\n$/);
    expect(steps.others!.exitCode, steps.others!.output).toBe(0);
  });

  it('refuses what a sandbox escape starts from: namespaces, mounts, keyrings, eBPF, userfaultfd, io_uring, perf', async () => {
    for (const repository of ['acme-sandbox/closed', 'acme-sandbox/open']) {
      const output = (await stepsOf(repository)).escape!.output;
      expect(output, repository).toContain('probed');
      expect(output, repository).not.toMatch(/^open /m);
      for (const call of ['keyctl', 'bpf', 'userfaultfd', 'io_uring_setup', 'perf_event_open', 'clone-newuser'])
        expect(output, repository).toContain(`closed ${call}`);
    }
  });

  it("gives each running job a uid of its own, never the worker's", async () => {
    const me = await g.caller({ groups: ['maintainers'] });
    const jobs = await Promise.all(
      ['acme-idle/one', 'acme-idle/two'].map((fullName) =>
        me
          .start('ci', { provider: 'github', repository: { fullName }, after: g.fakes.git.sha })
          .then((job) => job.jobId),
      ),
    );
    let pids: number[] = [];
    await vi.waitFor(
      () => {
        pids = findProcesses(['sleep', String(idleSeconds)]);
        expect(pids).toHaveLength(2);
      },
      { timeout: 20_000, interval: 100 },
    );
    const uids = pids.map((pid) => Number(/^Uid:\s+([0-9]+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]));
    expect(new Set(uids).size).toBe(2);
    for (const uid of uids) {
      expect(uid).not.toBe(process.getuid?.());
      expect(uid).toBeGreaterThanOrEqual(g.config.ci.sandbox.uid);
      expect(uid).toBeLessThan(g.config.ci.sandbox.uid + g.config.ci.sandbox.ids);
    }
    for (const jobId of jobs) await me.cancel(jobId);
  });

  it('keeps steps off the network unless the pipeline allows it, and then lets them reach only allowed hosts', async () => {
    expect((await stepsOf('acme-sandbox/closed')).network!.output).toContain('exit=3');
    const open = await stepsOf('acme-sandbox/open');
    // Temporal is on the worker's loopback: not reachable directly, and refused by the proxy.
    expect(open.direct!.output).toContain('exit=3');
    expect(open.temporal!.output).toMatch(/^HTTP\/1\.1 403/);
    // An allowed name that resolves to loopback is refused: the proxy checks the address.
    expect(open['by-name']!.output).toMatch(/^HTTP\/1\.1 403/);
    expect(open.allowed!.output).toContain(g.fakes.git.sha);
  });

  it('clones from the configured server only: a payload naming another host is refused', async () => {
    const push = githubPush(g.fakes.git.sha, 'https://evil.example/x.git');
    const answer = await deliver(
      g.app,
      githubDelivery(push, { secret: testSecrets.TEST_GITHUB_SECRET, event: 'push', path: '/v1/webhooks/github/ci' }),
    );
    expect(answer.statusCode).toBe(400);
    expect(answer.json().code).toBe('GATEHOUSE_WEBHOOK_MALFORMED');
  });

  it('lets an API caller name what to build, never where to clone it from', async () => {
    const me = await g.caller({ groups: ['maintainers'] });
    const post = (repository: Record<string, unknown>) =>
      me.send('ci', { provider: 'github', repository, after: g.fakes.git.sha });
    for (const repository of [
      { fullName: 'acme/api', cloneUrl: 'file:///etc' },
      { fullName: 'acme/../../etc' },
      { fullName: '-u/x' },
    ]) {
      const answer = await post(repository);
      expect(answer.statusCode, JSON.stringify(repository)).toBe(400);
      expect(answer.json().code).toBe('GATEHOUSE_VALIDATION_FAILED');
    }
  });

  it('refuses a repository that does not exist as CheckoutInvalid with a fixed message, before any status', async () => {
    const me = await g.caller({ groups: ['maintainers'] });
    const missing = 'f'.repeat(40);
    const { jobId } = await me.start('ci', {
      provider: 'github',
      repository: { fullName: 'acme/api' },
      after: missing,
    });
    const job = await admin.read(jobId, { wait: 5 });
    expect(job.status).toBe('FAILED');
    expect(job.failure).toEqual({ type: 'CheckoutInvalid', message: `acme/api has no commit ${missing}` });
    expect(g.fakes.hosts.statuses.filter((s) => s.url.endsWith(jobId))).toEqual([]);
  });
});
