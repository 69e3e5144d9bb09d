// The CI sandbox as the Helm chart deploys it: the worker in a container whose /proc is masked the
// way container runtimes mask it (Kubernetes' default procMount, which Pod Security `baseline`
// requires), under the container seccomp profile the chart names (deploy/seccomp/ci-worker.json,
// loaded here by the same libseccomp compiler). With `ci.sandbox.proc: shared` a step runs, and
// still cannot create namespaces, mount, or use keyrings; it sees the container's processes but
// not their environments. `private` needs an unmasked /proc, and says so.
// Needs root (a mount namespace to mask /proc in), as CI and the other sandbox tests have.
import { spawnSync } from 'node:child_process';
import { chownSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const workspace = mkdtempSync(join(tmpdir(), 'gatehouse-container-'));
chownSync(workspace, 60000, 60000);
afterAll(() => rmSync(workspace, { recursive: true, force: true }));

/** What runc and containerd mask by default: a file or two over /dev/null, /proc/sys read-only. */
const maskProc = [
  'set -e',
  'mount --make-rprivate /',
  'mount -t proc proc /proc',
  'for f in /proc/kcore /proc/kallsyms /proc/timer_list /proc/sched_debug; do [ -e "$f" ] && mount --bind /dev/null "$f"; done',
  'mount --bind /proc/sys /proc/sys',
  'mount -o remount,bind,ro /proc/sys',
  'exec "$@"',
].join('\n');

/** Runs `script` in the sandbox inside a masked /proc under the CI worker's container profile. */
function inContainer(proc: 'private' | 'shared', script: string) {
  const run = spawnSync(
    'unshare',
    [
      '--mount',
      '--pid',
      '--fork',
      'sh',
      '-c',
      maskProc,
      'mask-proc',
      '/usr/bin/python3',
      'deploy/seccomp/compile.py',
      'deploy/seccomp/ci-worker.json',
      '--',
      process.execPath,
      '--import',
      'tsx',
      'test/helpers/run-sandboxed.ts',
      proc,
      workspace,
      script,
    ],
    { encoding: 'utf8', timeout: 60_000 },
  );
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

const probe = [
  'id -u',
  'unshare -U -r true 2>/dev/null && echo "open userns"',
  'unshare -n true 2>/dev/null && echo "open netns"',
  'mount -t tmpfs none /tmp 2>/dev/null && echo "open mount"',
  'grep -q "^Seccomp:[[:space:]]*2" /proc/self/status && echo filtered',
  'ls /proc | grep -c "^[0-9]" >/dev/null && echo "sees processes"',
  'cat /proc/1/environ >/dev/null 2>&1 && echo "open environ of pid 1"',
  'ls /proc/1/root >/dev/null 2>&1 && echo "open root of pid 1"',
  'echo done',
].join('\n');

describe("the sandbox in the chart's container (masked /proc, the ci-worker seccomp profile)", () => {
  it('runs a step with the shared /proc, still refusing namespaces, mounts and other processes', () => {
    const { status, output } = inContainer('shared', probe);
    expect(status, output).toBe(0);
    expect(output).toMatch(/^60000\n/);
    expect(output).toContain('filtered');
    expect(output).toContain('sees processes');
    expect(output).toContain('done');
    expect(output).not.toMatch(/^open /m);
  }, 90_000);

  it('cannot mount a private /proc there: that mode needs an unmasked /proc', () => {
    const { status, output } = inContainer('private', 'echo ran');
    expect(status).not.toBe(0);
    expect(output).not.toContain('ran');
    expect(output).toContain("Can't mount proc");
  }, 90_000);

  it('refuses in the container profile what neither the worker nor bubblewrap needs', () => {
    const keyctl = process.arch === 'arm64' ? 219 : 250;
    const run = spawnSync(
      '/usr/bin/python3',
      [
        'deploy/seccomp/compile.py',
        'deploy/seccomp/ci-worker.json',
        '--',
        '/usr/bin/python3',
        '-c',
        `import ctypes; libc = ctypes.CDLL(None, use_errno=True); r = libc.syscall(${keyctl}, 0, 0, 0, 0, 0); print(r, ctypes.get_errno())`,
      ],
      { encoding: 'utf8' },
    );
    // keyctl answers EPERM (1) under the profile.
    expect(run.stdout.trim(), run.stderr).toBe('-1 1');
  });
});
