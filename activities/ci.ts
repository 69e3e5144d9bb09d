// CI activities: which pipeline a repository gets, and running its steps on the worker.
// runSteps checks out the exact commit into a fresh scratch directory, runs each step as a shell
// command with a timeout, keeps the tail of its output, and heartbeats its progress. A retry
// after a worker crash resumes after the last completed step (from the heartbeat details).
// Cancellation kills the step's whole process group. The scratch directory is always removed.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Context } from '@temporalio/activity';
import { fail } from '../src/core/failures.js';
import picomatch from 'picomatch';

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
  argo?: { namespace: string; workflowTemplate?: string; entrypoint?: string; manifest?: Record<string, unknown> };
}

export interface StepResult {
  name: string;
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  durationMs: number;
  /** The last `outputLimitBytes` of stdout and stderr, interleaved as produced. */
  output: string;
}

export interface StepsOutcome {
  ok: boolean;
  steps: StepResult[];
  failedStep?: string;
  durationMs: number;
}

/** Cancels running pipelines for the same repository and branch that started before this one. */
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
}

export function createCiActivities(deps: CiDeps) {
  return {
    /** Requests cancellation of older running runs of the same branch; returns their workflow ids. */
    async cancelSupersededRuns(input: { ref: string; workflowId: string; startedBefore: string }): Promise<string[]> {
      return deps.cancelSuperseded(input);
    },

    /** The configured pipeline for a repository (first match wins), or null when none applies. */
    async planPipeline(repository: string): Promise<PipelinePlan | null> {
      return deps.pipelines.find((p) => picomatch.isMatch(repository, p.repositories))?.plan ?? null;
    },

    async runSteps(input: { cloneUrl: string; sha: string; steps: StepSpec[] }): Promise<StepsOutcome> {
      const context = Context.current();
      const resumed = (context.info.heartbeatDetails as { completed?: StepResult[] } | undefined)?.completed ?? [];
      const began = Date.now();
      mkdirSync(deps.scratchDir, { recursive: true });
      const scratch = mkdtempSync(join(deps.scratchDir, 'job-'));
      const completed = [...resumed];
      const beat = setInterval(() => context.heartbeat({ completed }), 1_000);
      try {
        await checkout(input.cloneUrl, input.sha, scratch, context.cancellationSignal);
        for (const step of input.steps.slice(completed.length)) {
          const result = await runStep(step, scratch, deps.outputLimitBytes, context.cancellationSignal);
          // A cancelled step was killed; acknowledge the cancellation (CancelledFailure), so
          // Temporal records the activity as cancelled rather than failed.
          if (context.cancellationSignal.aborted) throw context.cancellationSignal.reason;
          completed.push(result);
          context.heartbeat({ completed });
          if (result.exitCode !== 0) {
            return { ok: false, steps: completed, failedStep: step.name, durationMs: Date.now() - began };
          }
        }
        return { ok: true, steps: completed, durationMs: Date.now() - began };
      } finally {
        clearInterval(beat);
        rmSync(scratch, { recursive: true, force: true });
      }
    },
  };
}

async function checkout(cloneUrl: string, sha: string, dir: string, signal: AbortSignal): Promise<void> {
  if (!/^[0-9a-f]{7,64}$/.test(sha)) throw fail('CheckoutInvalid', `not a commit SHA: ${sha}`);
  for (const args of [
    ['clone', '--quiet', '--no-checkout', cloneUrl, dir],
    ['-C', dir, 'checkout', '--quiet', '--detach', sha],
  ]) {
    const result = await runProcess('git', args, dir, 120_000, 8_192, signal);
    if (result.exitCode !== 0) {
      // A SHA the repository does not have will not appear on retry; a network error might clear.
      const missing = /did not match|reference is not a tree|unknown revision/.test(result.output);
      const message = `git ${args[0] === '-C' ? 'checkout' : 'clone'} failed: ${result.output.trim().slice(-500)}`;
      throw fail(missing ? 'CheckoutInvalid' : 'CheckoutFailed', message);
    }
  }
}

function runStep(step: StepSpec, cwd: string, limit: number, signal: AbortSignal): Promise<StepResult> {
  return runProcess('sh', ['-c', step.run], cwd, step.timeoutMs, limit, signal).then((r) => ({
    name: step.name,
    ...r,
  }));
}

/** Runs a command in its own process group, so a timeout or a cancel kills everything it started. */
function runProcess(
  command: string,
  args: string[],
  cwd: string,
  timeoutMs: number,
  limit: number,
  signal: AbortSignal,
): Promise<Omit<StepResult, 'name'>> {
  return new Promise((resolve, reject) => {
    const began = Date.now();
    const child = spawn(command, args, {
      cwd,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, GIT_TERMINAL_PROMPT: '0' },
    });
    let output = Buffer.alloc(0);
    let timedOut = false;
    const keep = (chunk: Buffer) => {
      output = Buffer.concat([output, chunk]);
      if (output.length > limit) output = output.subarray(output.length - limit);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
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
