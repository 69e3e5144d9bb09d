// The two seccomp profiles (deploy/seccomp): ci-worker.json for the CI worker's container (the
// Helm chart's Localhost profile, Compose's security_opt) and step.json, which bubblewrap applies
// to every git and step process inside it. A step is refused everything its container is, and the
// namespace and mount calls on top that the container must allow bubblewrap. Their compilation
// and effect are tested for real in test/integration/sandbox-container.test.ts.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

interface Rule {
  names: string[];
  action: string;
  errnoRet?: number;
  args?: Array<{ index: number; value: number; valueTwo?: number; op: string }>;
}
interface Profile {
  defaultAction: string;
  archMap: Array<{ architecture: string; subArchitectures: string[] }>;
  syscalls: Rule[];
}
const load = (file: string) => JSON.parse(readFileSync(`deploy/seccomp/${file}`, 'utf8')) as Profile;
const step = load('step.json');
const worker = load('ci-worker.json');
/** Syscalls a profile refuses whatever their arguments. */
const refused = (profile: Profile) =>
  new Set(
    profile.syscalls.filter((r) => r.action === 'SCMP_ACT_ERRNO' && r.args === undefined).flatMap((r) => r.names),
  );
const key = (rule: Rule) => JSON.stringify({ ...rule, names: [...rule.names].sort() });

describe('the seccomp profiles', () => {
  it('refuse in a step every call the container refuses, each rule the same', () => {
    const stepRules = new Set(step.syscalls.map(key));
    for (const rule of worker.syscalls) expect(stepRules.has(key(rule)), rule.names.join(',')).toBe(true);
  });

  it('refuse what kernel exploits start from, in both', () => {
    for (const profile of [step, worker])
      for (const name of [
        'keyctl',
        'add_key',
        'request_key',
        'bpf',
        'userfaultfd',
        'io_uring_setup',
        'io_uring_enter',
        'io_uring_register',
        'perf_event_open',
        'init_module',
        'finit_module',
        'kexec_load',
        'open_by_handle_at',
      ])
        expect(refused(profile).has(name), name).toBe(true);
  });

  it('let bubblewrap make namespaces and mounts in the container, and refuse them to steps', () => {
    const bubblewrapNeeds = ['unshare', 'mount', 'umount2', 'pivot_root', 'setns'];
    for (const name of bubblewrapNeeds) {
      expect(refused(worker).has(name), name).toBe(false);
      expect(refused(step).has(name), name).toBe(true);
    }
    expect(worker.syscalls.some((r) => r.names.includes('clone') || r.names.includes('clone3'))).toBe(false);
    // clone with any namespace flag, one rule per flag (the conditions of one rule all must hold).
    const cloneFlags = step.syscalls
      .filter((r) => r.names.includes('clone'))
      .map((r) => r.args?.[0])
      .map((arg) => (arg?.op === 'SCMP_CMP_MASKED_EQ' && arg.index === 0 ? arg.valueTwo : undefined));
    expect(cloneFlags.sort()).toEqual(
      [0x00020000, 0x02000000, 0x04000000, 0x08000000, 0x10000000, 0x20000000, 0x40000000].sort(),
    );
    expect(step.syscalls.find((r) => r.names.includes('clone3'))).toMatchObject({ errnoRet: 38 });
  });

  it('allow everything else and cover the 32-bit ABIs of x86_64 and arm64', () => {
    for (const profile of [step, worker]) {
      expect(profile.defaultAction).toBe('SCMP_ACT_ALLOW');
      expect(profile.archMap).toEqual([
        { architecture: 'SCMP_ARCH_X86_64', subArchitectures: ['SCMP_ARCH_X86', 'SCMP_ARCH_X32'] },
        { architecture: 'SCMP_ARCH_AARCH64', subArchitectures: ['SCMP_ARCH_ARM'] },
      ]);
    }
  });
});
