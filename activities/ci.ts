// CI activities: which pipeline a repository gets, checking that the commit exists, and running
// the pipeline's steps. The clone URL is derived by the worker from the provider's configured
// server and the repository name (never taken from the job's input); git and every step run in
// the sandbox (activities/sandbox.ts) with an explicit environment; output is redacted for the
// worker's secrets before it is kept. runSteps checks out the exact commit into a fresh scratch
// directory, heartbeats its progress, and a retry after a worker crash resumes after the last
// completed step. Cancellation kills the step's whole sandbox. The scratch directory is removed.
// Each attempt holds a uid and gid of its own (sandbox-ids.ts) from its checkout to its cleanup,
// and, when its pipeline has network, an egress proxy of its own that closes with it.
// Each step's start and end are reported to the job's workflow (its `ciStep` signal), in order and
// off the steps' path: a report that cannot be delivered is logged and costs nothing else, since
// the workflow logs the outcome's steps itself.
//
// Tracing: the checkout is a `ci.checkout` span and each step a `ci.step <name>` span; a step's
// process gets that span's context as TRACEPARENT (its environment is explicit, so it is passed
// on purpose), and a build tool that traces continues the job's trace from there.
import { spawn } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { SpanStatusCode } from '@opentelemetry/api';
import { Context, log } from '@temporalio/activity';
import picomatch from 'picomatch';
import type { CiStepReport } from '../src/core/ci-status.js';
import { fail } from '../src/core/failures.js';
import { isCommitSha, isRepositoryName } from '../src/core/git-names.js';
import type { SandboxIdLease, SandboxIds } from './sandbox-ids.js';
import { sandboxCommand, type SandboxConfig, type SandboxedCommand, type SandboxNetwork } from './sandbox.js';
import { inSpan, traceContextHeaders } from './tracing.js';

export interface StepSpec {
  name: string;
  run: string;
  timeoutMs: number;
}

export interface PipelinePlan {
  runner: 'steps' | 'argo';
  /** From the worker's config, so the workflow needs no config of its own. */
  statusContext: string;
  publicUrl: string;
  heartbeatTimeoutMs: number;
  argoPollIntervalMs: number;
  cancelSuperseded: boolean;
  steps?: StepSpec[];
  /** Whether steps may reach the network (the clone always may). */
  network?: boolean;
  /** Plain variables the pipeline gives its steps. */
  env?: Record<string, string>;
  argo?: { namespace: string; workflowTemplate?: string; entrypoint?: string; manifest?: Record<string, unknown> };
}

export interface StepResult {
  name: string;
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  durationMs: number;
  /** The last `outputLimitBytes` of stdout and stderr, interleaved as produced, secrets redacted. */
  output: string;
}

export interface StepsOutcome {
  ok: boolean;
  steps: StepResult[];
  failedStep?: string;
  durationMs: number;
}

/** What to build: the worker derives where to clone it from. */
export interface CommitRef {
  provider: string;
  repository: string;
  sha: string;
  /** The webhook hook the job came from: its server may differ from the provider's default. */
  hook?: string;
}

/** Cancels running pipelines for the same concurrency key that started before this one. */
export type SupersededCanceller = (input: {
  ref: string;
  workflowId: string;
  startedBefore: string;
}) => Promise<string[]>;

export interface CiDeps {
  cancelSuperseded: SupersededCanceller;
  scratchDir: string;
  outputLimitBytes: number;
  pipelines: Array<{ repositories: string[]; plan: PipelinePlan }>;
  /** The clone URL for a repository on its configured server, or undefined when there is none. */
  cloneUrl(provider: string, repository: string, hook?: string): string | undefined;
  /** Protocols git may use (GIT_ALLOW_PROTOCOL). */
  cloneProtocols: string[];
  sandbox: SandboxConfig;
  /** Each attempt's own uid and gid (empty when the worker cannot switch users). */
  sandboxIds: SandboxIds;
  /** The compiled step filter (deploy/seccomp/step.json), for the bwrap runner. */
  seccomp?: Buffer;
  /** An egress proxy for one attempt's network steps, reachable by its ids only. */
  openEgress?: EgressOpener;
  /** Replaces every secret value the worker holds with [redacted]. */
  redact(text: string): string;
  /** Tells the job's workflow a step started or ended (its `ciStep` signal); absent, steps are not reported. */
  reportStep?: StepReporter;
}

/** `onRefused` hears of each destination the proxy refused (a step's attempt, worth a log line). */
export type EgressOpener = (
  owner: { uid?: number; gid?: number },
  onRefused: (destination: string, reason: string) => void,
) => Promise<{
  socket: string;
  close(): Promise<void>;
}>;

export type StepReporter = (workflow: { workflowId: string; runId: string }, report: CiStepReport) => Promise<void>;

/** How long a finished runSteps waits for its last reports to be delivered. */
const reportFlushMs = 5_000;

export function createCiActivities(deps: CiDeps) {
  const checkoutOf = (ref: CommitRef, lease: SandboxIdLease, workspace: string, signal: AbortSignal) =>
    inSpan('ci.checkout', { attributes: { 'gatehouse.repository': ref.repository } }, () =>
      checkout(deps, ref, lease, workspace, signal),
    );
  return {
    /** Requests cancellation of older running runs of the same key; returns their workflow ids. */
    async cancelSupersededRuns(input: { ref: string; workflowId: string; startedBefore: string }): Promise<string[]> {
      return deps.cancelSuperseded(input);
    },

    /** The configured pipeline for a repository (first match wins), or null when none applies. */
    async planPipeline(repository: string): Promise<PipelinePlan | null> {
      return deps.pipelines.find((p) => picomatch.isMatch(repository, p.repositories))?.plan ?? null;
    },

    /** Fetches the repository and checks out the exact commit, then forgets it: nothing is reported on a commit that does not exist. */
    async verifyCommit(ref: CommitRef): Promise<{ sha: string }> {
      const context = Context.current();
      const lease = deps.sandboxIds.lease();
      const workspace = makeWorkspace(deps, lease);
      const beat = setInterval(() => context.heartbeat(), 1_000);
      try {
        await checkoutOf(ref, lease, workspace, context.cancellationSignal);
        return { sha: ref.sha };
      } finally {
        clearInterval(beat);
        await removeWorkspace(workspace, lease);
      }
    },

    async runSteps(
      input: CommitRef & { steps: StepSpec[]; jobId: string; network?: boolean; env?: Record<string, string> },
    ): Promise<StepsOutcome> {
      const context = Context.current();
      const resumed = (context.info.heartbeatDetails as { completed?: StepResult[] } | undefined)?.completed ?? [];
      const began = Date.now();
      const lease = deps.sandboxIds.lease();
      const workspace = makeWorkspace(deps, lease);
      const completed = [...resumed];
      const beat = setInterval(() => context.heartbeat({ completed }), 1_000);
      const reports = stepReports(deps.reportStep, context.info.workflowExecution, context.info.attempt);
      let egress: Awaited<ReturnType<EgressOpener>> | undefined;
      try {
        await checkoutOf(input, lease, workspace, context.cancellationSignal);
        let network: SandboxNetwork = { kind: 'none' };
        if (input.network === true && deps.openEgress !== undefined) {
          // The proxy's callbacks run outside the activity's context: they keep its logger.
          const activityLog = context.log;
          egress = await deps.openEgress(lease.ids, (destination, reason) =>
            activityLog.warn('egress refused', { destination, reason }),
          );
          network = { kind: 'egress', socket: egress.socket };
        }
        const env = {
          ...(input.env ?? {}),
          PATH: '/usr/local/bin:/usr/bin:/bin',
          HOME: '/tmp',
          CI: 'true',
          GATEHOUSE_JOB_ID: input.jobId,
          GATEHOUSE_REPOSITORY: input.repository,
          GATEHOUSE_SHA: input.sha,
        };
        for (const step of input.steps.slice(completed.length)) {
          const index = completed.length;
          reports.send({ index, name: step.name, state: 'started' });
          const result = await inSpan(
            `ci.step ${step.name}`,
            { attributes: { 'gatehouse.ci.step': step.name } },
            async (span) => {
              const traceparent = traceContextHeaders().traceparent;
              const stepEnv = traceparent === undefined ? env : { ...env, TRACEPARENT: traceparent };
              const command = sandboxCommand(deps.sandbox, ['sh', '-c', step.run], {
                workspace,
                network,
                env: stepEnv,
                ids: lease.ids,
                seccomp: deps.seccomp,
              });
              const ran = await runProcess(
                command,
                workspace,
                step.timeoutMs,
                deps.outputLimitBytes,
                context.cancellationSignal,
                stepEnv,
              );
              span.setAttributes({
                'process.exit.code': ran.exitCode ?? -1,
                'gatehouse.ci.timed_out': ran.timedOut,
              });
              if (ran.exitCode !== 0)
                span.setStatus({ code: SpanStatusCode.ERROR, message: `step ${step.name} failed` });
              return ran;
            },
          );
          // A cancelled step was killed; acknowledge the cancellation (CancelledFailure), so
          // Temporal records the activity as cancelled rather than failed.
          if (context.cancellationSignal.aborted) throw context.cancellationSignal.reason;
          completed.push({ name: step.name, ...result, output: deps.redact(result.output) });
          context.heartbeat({ completed });
          reports.send({
            index,
            name: step.name,
            state: result.exitCode === 0 ? 'passed' : 'failed',
            exitCode: result.exitCode,
            signal: result.signal,
            timedOut: result.timedOut,
            durationMs: result.durationMs,
          });
          if (result.exitCode !== 0) {
            return { ok: false, steps: completed, failedStep: step.name, durationMs: Date.now() - began };
          }
        }
        return { ok: true, steps: completed, durationMs: Date.now() - began };
      } finally {
        clearInterval(beat);
        await egress?.close();
        await removeWorkspace(workspace, lease);
        // The last reports reach the workflow before the outcome does, so its log keeps their order.
        await reports.flush(reportFlushMs);
      }
    },
  };
}

/**
 * Step reports sent one after another (a step's end never overtakes its start), without holding up
 * the steps; a failed report is logged and dropped.
 */
function stepReports(
  reporter: StepReporter | undefined,
  workflow: { workflowId: string; runId: string } | undefined,
  attempt: number,
): { send(report: CiStepReport): void; flush(timeoutMs: number): Promise<void> } {
  let chain = Promise.resolve();
  return {
    send(report) {
      if (reporter === undefined || workflow === undefined) return;
      chain = chain.then(() =>
        reporter(workflow, report.state === 'started' ? { ...report, attempt } : report).catch((error: unknown) =>
          log.warn('step report not delivered', { step: report.name, state: report.state, error: String(error) }),
        ),
      );
    },
    async flush(timeoutMs) {
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)));
      await Promise.race([chain, late]);
      clearTimeout(timer);
    },
  };
}

/** A fresh private directory per attempt, owned by the attempt's own ids when it has them. */
function makeWorkspace(deps: CiDeps, lease: SandboxIdLease): string {
  mkdirSync(deps.scratchDir, { recursive: true });
  // Other users may pass through the scratch directory to their own workspace, not list it.
  chmodSync(deps.scratchDir, 0o711);
  const workspace = mkdtempSync(join(deps.scratchDir, 'job-'));
  const { uid, gid } = lease.ids;
  if (uid !== undefined && gid !== undefined) chownSync(workspace, uid, gid);
  return workspace;
}

/**
 * Removes an attempt's workspace, then gives its ids back. A root worker may hold no capability
 * to read other users' files (the Helm chart grants it none), so what the steps left is removed
 * by their own uid first; the emptied directory is the worker's to remove from its scratch dir.
 */
async function removeWorkspace(workspace: string, lease: SandboxIdLease): Promise<void> {
  try {
    if (lease.ids.uid !== undefined) {
      const script = 'chmod -R u+rwx -- "$1" 2>/dev/null; rm -rf -- "$1"/* "$1"/.[!.]* "$1"/..?*';
      const ran = await runProcess(
        { file: 'sh', args: ['-c', script, 'gatehouse-cleanup', workspace], ids: lease.ids },
        '/',
        120_000,
        2_048,
        new AbortController().signal,
        { PATH: '/usr/bin:/bin' },
      );
      if (ran.exitCode !== 0) log.warn('workspace cleanup failed', { workspace, output: ran.output });
    }
    try {
      rmSync(workspace, { recursive: true, force: true });
    } catch {
      // Without CAP_DAC_OVERRIDE the worker cannot list a directory it does not own; it is empty now.
      rmdirSync(workspace);
    }
  } finally {
    lease.release();
  }
}

/**
 * Clones the derived URL (git's own protocol allow-list, `--` before the URL, no terminal, no
 * system or global git config) into the workspace and checks out the exact commit. A failure
 * reaches the caller as a type and a fixed message; git's own words go to the worker's log.
 */
async function checkout(
  deps: CiDeps,
  ref: CommitRef,
  lease: SandboxIdLease,
  workspace: string,
  signal: AbortSignal,
): Promise<void> {
  if (!isCommitSha(ref.sha)) throw fail('CheckoutInvalid', 'the commit is not a full commit id');
  if (!isRepositoryName(ref.repository)) throw fail('CheckoutInvalid', 'the repository name is not acceptable');
  const url = deps.cloneUrl(ref.provider, ref.repository, ref.hook);
  if (url === undefined) throw fail('CheckoutInvalid', `no server is configured for ${ref.provider}`);
  const env = {
    PATH: '/usr/local/bin:/usr/bin:/bin',
    HOME: '/tmp',
    GIT_TERMINAL_PROMPT: '0',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_ALLOW_PROTOCOL: deps.cloneProtocols.join(':'),
  };
  const git = (args: string[]) =>
    runProcess(
      sandboxCommand(deps.sandbox, ['git', ...args], {
        workspace,
        network: { kind: 'worker' },
        env,
        ids: lease.ids,
        seccomp: deps.seccomp,
      }),
      workspace,
      120_000,
      8_192,
      signal,
      env,
    );
  const cloned = await git(['clone', '--quiet', '--no-checkout', '--', url, '.']);
  if (cloned.exitCode !== 0) {
    log.warn('git clone failed', { repository: ref.repository, output: deps.redact(cloned.output.slice(-500)) });
    throw fail('CheckoutFailed', `git could not fetch ${ref.repository} from its configured server`);
  }
  const checkedOut = await git(['checkout', '--quiet', '--detach', ref.sha, '--']);
  if (checkedOut.exitCode !== 0) {
    log.warn('git checkout failed', { repository: ref.repository, output: deps.redact(checkedOut.output.slice(-500)) });
    throw fail('CheckoutInvalid', `${ref.repository} has no commit ${ref.sha}`);
  }
}

/** Runs a command in its own process group, so a timeout or a cancel kills everything it started. */
function runProcess(
  command: SandboxedCommand,
  cwd: string,
  timeoutMs: number,
  limit: number,
  signal: AbortSignal,
  env: Record<string, string>,
): Promise<Omit<StepResult, 'name'>> {
  return new Promise((resolve, reject) => {
    const began = Date.now();
    const child = spawn(command.file, command.args, {
      cwd,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe', ...(command.fd3 === undefined ? [] : (['pipe'] as const))],
      env,
      ...command.ids,
    });
    // bwrap reads fd 3 to its end before it runs the command. A bwrap that fails before reading
    // it closes the pipe: its exit status tells that, not the write's EPIPE.
    if (command.fd3 !== undefined) {
      const fd3 = child.stdio[3] as NodeJS.WritableStream;
      fd3.on('error', () => {});
      fd3.end(command.fd3);
    }
    let output = Buffer.alloc(0);
    let timedOut = false;
    const keep = (chunk: Buffer) => {
      output = Buffer.concat([output, chunk]);
      if (output.length > limit) output = output.subarray(output.length - limit);
    };
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    const killGroup = (sig: NodeJS.Signals) => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, sig);
      } catch {
        // already gone
      }
    };
    const stop = () => {
      killGroup('SIGTERM');
      setTimeout(() => killGroup('SIGKILL'), 2_000).unref();
    };
    const timer = setTimeout(() => {
      timedOut = true;
      stop();
    }, timeoutMs);
    signal.addEventListener('abort', stop, { once: true });
    child.once('error', reject);
    child.once('close', (exitCode, sig) => {
      clearTimeout(timer);
      signal.removeEventListener('abort', stop);
      resolve({ exitCode, signal: sig, timedOut, durationMs: Date.now() - began, output: output.toString('utf8') });
    });
  });
}
