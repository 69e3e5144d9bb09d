// The CI sandbox: code from a repository is hostile, so git and every step run under bubblewrap
// (`bwrap`) in namespaces of their own: a read-only /usr and the few /etc files a toolchain needs,
// a private /tmp, the job's own checkout at /workspace and nothing else of the worker's files (no
// other job's checkout, no ledger, no config); no capabilities; an explicit environment (never the
// worker's); a seccomp filter (deploy/seccomp/step.json: no new namespaces, no mounts, no keyrings,
// eBPF, userfaultfd, io_uring or perf events); and, when the worker is root, a uid and gid of the
// job's own (sandbox-ids.ts). The PID namespace dies with the step, so nothing it started survives.
//
// Networks: a step has a network namespace of its own with loopback only. A pipeline with
// `network: true` reaches the outside only through the worker's egress proxy (a unix socket
// bound into the sandbox, src/worker/egress-proxy.ts), which socat exposes inside on loopback as
// HTTP(S)_PROXY: never Temporal, the bridges or anything else of the deployment. Only the clone
// shares the worker's network, to reach its configured git server.
import { existsSync, lstatSync } from 'node:fs';

export interface SandboxConfig {
  /** `bwrap` (the default); `none` runs commands directly, still with the explicit environment. */
  runner: 'bwrap' | 'none';
  /**
   * `private`: a fresh /proc of the step's PID namespace (needs an unmasked /proc); `shared`: the
   * container's /proc, read-only (steps see its process list; a uid of their own keeps them out of
   * other processes' files).
   */
  proc: 'private' | 'shared';
}

export interface SandboxedCommand {
  file: string;
  args: string[];
  /** For child_process.spawn: the job's own ids, when the worker may switch to them. */
  ids: { uid?: number; gid?: number };
  /** Bytes bwrap reads from file descriptor 3: the compiled seccomp filter. */
  fd3?: Buffer;
}

/** What a command may reach: nothing but loopback, the egress proxy's socket, or (the clone) the worker's network. */
export type SandboxNetwork = { kind: 'none' } | { kind: 'egress'; socket: string } | { kind: 'worker' };

/** Where the egress proxy appears inside the sandbox. */
const egressSocket = '/run/gatehouse/egress.sock';
const egressListen = '127.0.0.1:3128';
/** 127.0.0.1:3128 as /proc/net/tcp shows a listening socket (port in hex, state 0A). */
const egressListening = '0100007F:0C38 00000000:0000 0A';

/** The variables that point HTTP clients (curl, git, npm, pip, Go) at the forwarder. */
export const egressEnv: Record<string, string> = Object.fromEntries([
  ...['HTTP_PROXY', 'HTTPS_PROXY', 'http_proxy', 'https_proxy'].map((name) => [name, `http://${egressListen}`]),
  ...['NO_PROXY', 'no_proxy'].map((name) => [name, 'localhost,127.0.0.1,::1']),
]);

/**
 * Starts socat as the loopback end of the egress proxy, waits until it listens (bounded), then
 * runs the step. socat is the step's own child: it dies with the step's PID namespace.
 */
const egressPrelude = [
  `socat TCP4-LISTEN:${egressListen.split(':')[1]},bind=127.0.0.1,reuseaddr,fork UNIX-CONNECT:${egressSocket} 2>/dev/null &`,
  'i=0',
  `until grep -q '${egressListening}' /proc/net/tcp; do`,
  `  i=$((i + 1)); [ "$i" -lt 500 ] || { echo 'gatehouse: the egress forwarder did not start' >&2; exit 125; }`,
  '  sleep 0.01',
  'done',
  'exec "$@"',
].join('\n');

/** /etc files a build toolchain reads; DNS and host files only where the worker's network is shared. */
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
  options: {
    workspace: string;
    network: SandboxNetwork;
    env: Record<string, string>;
    ids: { uid?: number; gid?: number };
    /** The compiled step filter; required by the bwrap runner. */
    seccomp: Buffer | undefined;
  },
): SandboxedCommand {
  const { ids, network } = options;
  if (config.runner === 'none') return { file: command[0]!, args: command.slice(1), ids };
  if (options.seccomp === undefined) throw new Error('the bwrap runner needs the compiled seccomp filter');
  // --unshare-user is explicit because --disable-userns needs it; a shared /proc keeps /proc/sys
  // read-only, where bwrap cannot set the namespace limit, so there the seccomp filter alone
  // refuses new user namespaces (it does in both modes).
  const args = ['--unshare-all', '--unshare-user', '--die-with-parent', '--new-session'];
  if (network.kind === 'worker') args.push('--share-net');
  if (config.proc === 'private') args.push('--disable-userns', '--assert-userns-disabled');
  args.push('--ro-bind', '/usr', '/usr');
  for (const top of ['/bin', '/sbin', '/lib', '/lib64', '/lib32']) {
    if (!existsSync(top)) continue;
    // Merged-/usr systems link these into /usr; others need them bound.
    if (lstatSync(top).isSymbolicLink()) args.push('--symlink', `usr${top}`, top);
    else args.push('--ro-bind', top, top);
  }
  for (const file of [...etcFiles, ...(network.kind === 'worker' ? netFiles : [])])
    args.push('--ro-bind-try', file, file);
  if (config.proc === 'private') args.push('--proc', '/proc');
  else args.push('--ro-bind', '/proc', '/proc');
  args.push('--dev', '/dev', '--tmpfs', '/tmp');
  if (network.kind === 'egress') args.push('--bind', network.socket, egressSocket);
  args.push('--bind', options.workspace, '/workspace', '--chdir', '/workspace', '--clearenv');
  const env = network.kind === 'egress' ? { ...options.env, ...egressEnv } : options.env;
  for (const [name, value] of Object.entries(env)) args.push('--setenv', name, value);
  args.push('--seccomp', '3');
  const run = network.kind === 'egress' ? ['sh', '-c', egressPrelude, 'gatehouse-egress', ...command] : command;
  return { file: 'bwrap', args: [...args, '--', ...run], ids, fd3: options.seccomp };
}
