// The seccomp filter every sandboxed git and step process runs under: deploy/seccomp/step.json,
// compiled at start-up by deploy/seccomp/compile.py with libseccomp (Debian's python3-seccomp)
// for this machine's architecture and its 32-bit ABIs. Compiled here rather than shipped as a
// binary so the program always matches the file a reviewer reads and the machine it runs on;
// a worker that cannot compile it refuses to start.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** deploy/seccomp from this module, whether it runs from its source or compiled under dist/. */
function seccompDir(): string {
  const candidates = ['../../deploy/seccomp/', '../../../deploy/seccomp/'].map((path) =>
    fileURLToPath(new URL(path, import.meta.url)),
  );
  return candidates.find((dir) => existsSync(`${dir}step.json`)) ?? candidates[0]!;
}

export const stepSeccompProfile = `${seccompDir()}step.json`;
const compiler = `${seccompDir()}compile.py`;

/** The BPF program for `bwrap --seccomp`; throws with what to install when it cannot be built. */
export function compileStepSeccomp(profile = stepSeccompProfile): Buffer {
  // Debian's interpreter, which python3-seccomp belongs to, whatever else PATH finds first.
  const result = spawnSync('/usr/bin/python3', [compiler, profile], { env: {}, maxBuffer: 1024 * 1024 });
  if (result.status !== 0 || result.stdout.length === 0) {
    const reason = result.error?.message ?? result.stderr.toString('utf8').trim().split('\n').at(-1);
    throw new Error(
      `cannot compile the step seccomp filter ${profile} (${reason}); install python3-seccomp (Debian: apt-get install python3-seccomp)`,
    );
  }
  return result.stdout;
}
