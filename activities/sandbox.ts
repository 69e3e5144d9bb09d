// The CI sandbox: code from a repository is hostile, so git and every step run under bubblewrap
// (`bwrap`) in namespaces of their own: a read-only /usr and the few /etc files a toolchain needs,
// a private /tmp, the job's own checkout at /workspace and nothing else of the worker's files (no
// other job's checkout, no ledger, no config); no network unless asked for; no capabilities; an
// explicit environment (never the worker's); and, when the worker runs as root, an unprivileged
// uid/gid outside as well. The PID namespace dies with the step, so nothing it started survives.
import { existsSync, lstatSync } from 'node:fs';

export interface SandboxConfig {
  /** `bwrap` (the default); `none` runs commands directly, still with the explicit environment. */
  runner: 'bwrap' | 'none';
  /** The uid and gid to run as when the worker is root. */
  uid: number;
  gid: number;
}

export interface SandboxedCommand {
  file: string;
  args: string[];
  /** For child_process.spawn: the unprivileged ids, when the worker may switch to them. */
  ids: { uid?: number; gid?: number };
}

/** /etc files a build toolchain reads; DNS and host files only where the network is allowed. */
const etcFiles = [
  '/etc/ssl',
  '/etc/ca-certificates',
  '/etc/alternatives',
  '/etc/passwd',
  '/etc/group',
  '/etc/localtime',
];
const netFiles = ['/etc/resolv.conf', '/etc/hosts', '/etc/nsswitch.conf', '/etc/gai.conf'];

export function sandboxCommand(
  config: SandboxConfig,
  command: string[],
  options: { workspace: string; network: boolean; env: Record<string, string> },
): SandboxedCommand {
  const ids =
    typeof process.getuid === 'function' && process.getuid() === 0 ? { uid: config.uid, gid: config.gid } : {};
  if (config.runner === 'none') {
    return { file: command[0]!, args: command.slice(1), ids };
  }
  const args = ['--unshare-all', ...(options.network ? ['--share-net'] : []), '--die-with-parent', '--new-session'];
  args.push('--ro-bind', '/usr', '/usr');
  for (const top of ['/bin', '/sbin', '/lib', '/lib64', '/lib32']) {
    if (!existsSync(top)) continue;
    // Merged-/usr systems link these into /usr; others need them bound.
    if (lstatSync(top).isSymbolicLink()) args.push('--symlink', `usr${top}`, top);
    else args.push('--ro-bind', top, top);
  }
  for (const file of [...etcFiles, ...(options.network ? netFiles : [])]) args.push('--ro-bind-try', file, file);
  args.push('--proc', '/proc', '--dev', '/dev', '--tmpfs', '/tmp');
  args.push('--bind', options.workspace, '/workspace', '--chdir', '/workspace', '--clearenv');
  for (const [name, value] of Object.entries(options.env)) args.push('--setenv', name, value);
  return { file: 'bwrap', args: [...args, '--', ...command], ids };
}
