// The bubblewrap command line each git and step process runs under: what it isolates, in each
// /proc mode and network mode. The real sandbox runs in test/integration/ci-pipeline.test.ts.
import { describe, expect, it } from 'vitest';
import { egressEnv, sandboxCommand, type SandboxConfig } from '../../../activities/sandbox.js';

const filter = Buffer.from('bpf');
const base = { workspace: '/scratch/job-1', env: { CI: 'true' }, ids: { uid: 60001, gid: 60001 }, seccomp: filter };
const bwrap = (config: Partial<SandboxConfig>, network: Parameters<typeof sandboxCommand>[2]['network']) =>
  sandboxCommand({ runner: 'bwrap', proc: 'private', ...config }, ['sh', '-c', 'make'], { ...base, network });

/** The value after each occurrence of `flag`. */
const after = (args: string[], flag: string) => args.flatMap((arg, i) => (arg === flag ? [args[i + 1]] : []));

describe('sandboxCommand', () => {
  it('runs under bwrap with its own user namespace, nested ones disabled, and the seccomp filter on fd 3', () => {
    const command = bwrap({}, { kind: 'none' });
    expect(command.file).toBe('bwrap');
    expect(command.args).toEqual(
      expect.arrayContaining(['--unshare-all', '--unshare-user', '--disable-userns', '--assert-userns-disabled']),
    );
    expect(after(command.args, '--seccomp')).toEqual(['3']);
    expect(command.fd3).toBe(filter);
    expect(command.ids).toEqual({ uid: 60001, gid: 60001 });
    expect(command.args).not.toContain('--share-net');
    expect(after(command.args, '--proc')).toEqual(['/proc']);
    expect(command.args.slice(command.args.indexOf('--') + 1)).toEqual(['sh', '-c', 'make']);
    expect(command.args).toContain('--clearenv');
  });

  it("binds the container's /proc read-only in shared mode, where the filter alone refuses user namespaces", () => {
    const command = bwrap({ proc: 'shared' }, { kind: 'none' });
    expect(command.args).not.toContain('--proc');
    expect(command.args.join(' ')).toContain('--ro-bind /proc /proc');
    // bwrap cannot set the namespace limit through a read-only /proc/sys.
    expect(command.args).not.toContain('--disable-userns');
    expect(after(command.args, '--seccomp')).toEqual(['3']);
  });

  it('gives a network step loopback only, the egress socket, the proxy variables and the forwarder first', () => {
    const command = bwrap({}, { kind: 'egress', socket: '/scratch/egress-1/proxy.sock' });
    expect(command.args).not.toContain('--share-net');
    expect(command.args.join(' ')).toContain('--bind /scratch/egress-1/proxy.sock /run/gatehouse/egress.sock');
    for (const [name, value] of Object.entries(egressEnv))
      expect(command.args.join(' ')).toContain(`--setenv ${name} ${value}`);
    expect(egressEnv.HTTPS_PROXY).toBe('http://127.0.0.1:3128');
    const run = command.args.slice(command.args.indexOf('--') + 1);
    expect(run.slice(0, 2)).toEqual(['sh', '-c']);
    expect(run[2]).toContain('socat TCP4-LISTEN:3128,bind=127.0.0.1');
    expect(run.slice(3)).toEqual(['gatehouse-egress', 'sh', '-c', 'make']);
    // No resolver files: names are the proxy's to resolve.
    expect(command.args).not.toContain('/etc/resolv.conf');
  });

  it("shares the worker's network only for the clone, with its resolver files", () => {
    const command = bwrap({}, { kind: 'worker' });
    expect(command.args).toContain('--share-net');
    expect(command.args).toContain('/etc/resolv.conf');
    expect(after(command.args, '--seccomp')).toEqual(['3']);
  });

  it('refuses to build a bwrap command without the filter, and runs directly with runner none', () => {
    expect(() =>
      sandboxCommand({ runner: 'bwrap', proc: 'private' }, ['true'], {
        ...base,
        seccomp: undefined,
        network: { kind: 'none' },
      }),
    ).toThrow(/seccomp/);
    const direct = sandboxCommand({ runner: 'none', proc: 'private' }, ['sh', '-c', 'make'], {
      ...base,
      network: { kind: 'none' },
    });
    expect(direct).toEqual({ file: 'sh', args: ['-c', 'make'], ids: { uid: 60001, gid: 60001 } });
  });
});
