// What a CI worker's sandbox needs before it takes a job, checked at start-up so that a worker
// which could not keep its promises refuses to start (a ConfigError naming the setting) instead of
// running steps with less isolation: bubblewrap, the compiled seccomp filter, socat where a
// pipeline has network, and a uid to give each job (a root worker), unless the operator allowed
// a non-root worker to run steps as itself.
import { spawnSync } from 'node:child_process';
import type { EgressOpener } from '../../activities/ci.js';
import { SandboxIds } from '../../activities/sandbox-ids.js';
import type { SandboxConfig } from '../../activities/sandbox.js';
import { ConfigError, configPath, type GatehouseConfig } from '../config/load-config.js';
import { createEgressPolicy } from './egress-policy.js';
import { startEgressProxy } from './egress-proxy.js';
import { compileStepSeccomp } from './step-seccomp.js';

export interface CiSandbox {
  sandbox: SandboxConfig;
  sandboxIds: SandboxIds;
  seccomp?: Buffer;
  openEgress?: EgressOpener;
}

export function prepareCiSandbox(config: GatehouseConfig): CiSandbox {
  const settings = config.ci.sandbox;
  const root = typeof process.getuid === 'function' && process.getuid() === 0;
  const problems: string[] = [];
  if (!root && settings.proc === 'shared')
    problems.push(
      "/ci/sandbox/proc: shared shows steps the worker's /proc, so the worker must be root and give each job its own uid",
    );
  else if (!root && !settings.allowWorkerUid)
    problems.push(
      '/ci/sandbox/allowWorkerUid: the worker is not root, so steps would run under its own uid; run the CI worker as root (it gives each job a uid from ci.sandbox.uid), or set allowWorkerUid: true on a development machine',
    );
  const sandboxIds = new SandboxIds(settings, root);
  const sandbox: SandboxConfig = { runner: settings.runner, proc: settings.proc };
  if (settings.runner !== 'bwrap') {
    if (problems.length > 0) throw new ConfigError(config.source, problems);
    return { sandbox, sandboxIds };
  }
  const missing = (tool: string, args: string[]) =>
    spawnSync(tool, args, { env: { PATH: '/usr/local/bin:/usr/bin:/bin' }, stdio: 'ignore' }).status !== 0;
  if (missing('bwrap', ['--version']))
    problems.push(
      '/ci/sandbox/runner: bubblewrap (bwrap) is not installed or cannot run; install it (Debian: apt-get install bubblewrap), or set runner: none for trusted repositories only',
    );
  if (config.ci.pipelines.some((pipeline) => pipeline.network) && missing('socat', ['-V']))
    problems.push(
      '/ci/pipelines: a pipeline has network: true, whose steps reach the egress proxy through socat; install it (Debian: apt-get install socat)',
    );
  let seccomp: Buffer | undefined;
  try {
    seccomp = compileStepSeccomp();
  } catch (error) {
    problems.push(`/ci/sandbox/runner: ${(error as Error).message}`);
  }
  if (problems.length > 0) throw new ConfigError(config.source, problems);
  const policy = createEgressPolicy(settings.egress);
  const scratchDir = configPath(config, config.ci.scratchDir);
  return {
    sandbox,
    sandboxIds,
    ...(seccomp === undefined ? {} : { seccomp }),
    openEgress: (owner, onRefused) => startEgressProxy({ dir: scratchDir, policy, owner, onRefused }),
  };
}
