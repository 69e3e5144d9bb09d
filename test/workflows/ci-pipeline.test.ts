// ciPipeline, branch by branch, with mocked activities on the run's Temporal dev server: no
// pipeline, policy deny, success, step failure, superseded runs, Argo back-off and rejection, and
// cancellation of steps and of an Argo Workflow. Each finishes in about a second or two.
import { Context } from '@temporalio/activity';
import { WorkflowFailedError } from '@temporalio/client';
import { describe, expect, it, vi } from 'vitest';
import type { ArgoOutcome } from '../../activities/argo.js';
import type { CommitRef, PipelinePlan, StepsOutcome } from '../../activities/ci.js';
import type { PolicyQuery } from '../../activities/policy.js';
import { fail } from '../../src/core/failures.js';
import type { CiEvent } from '../../src/core/git-event.js';
import type { Identity } from '../../src/core/identity.js';
import type { CiResult } from '../../workflows/ci-pipeline.js';
import { ciPush, mockPipeline, policyDecision, startPipeline, stepsPlan } from '../helpers/ci-workflow.js';
import { calls, jobRequest, useWorkflowHarness, webhookSender } from '../helpers/workflow-worker.js';

const h = useWorkflowHarness();
const sha = 'a'.repeat(40);
const push = ciPush(sha);
const plan = stepsPlan;
const decision = policyDecision;

function pipeline<Over extends object>(over: Over = {} as Over) {
  return mockPipeline(plan, over);
}

async function run(activities: object, input: CiEvent = push) {
  return h.withWorker(activities, (taskQueue) =>
    h.client.workflow
      .execute('ciPipeline', {
        taskQueue,
        workflowId: jobRequest('ci', input).jobId,
        args: [jobRequest('ci', input, webhookSender)],
      })
      .then(
        (result) => ({ result: result as CiResult, failure: undefined }),
        (error: unknown) => ({ result: undefined, failure: error }),
      ),
  );
}

/** Starts a pipeline, cancels it once `ready` resolves, and answers the status it closed with. */
async function cancelWhen(activities: object, ready: () => Promise<unknown>): Promise<string> {
  return h.withWorker(activities, async (taskQueue) => {
    const handle = await startPipeline(h.client, taskQueue, push);
    await ready();
    await handle.cancel();
    await expect(handle.result()).rejects.toThrow();
    return (await handle.describe()).status.name;
  });
}

/** The innermost failure type, as the job API reports it in failure.type. */
function failureType(error: unknown): string | undefined {
  expect(error).toBeInstanceOf(WorkflowFailedError);
  let type: string | undefined;
  for (let cause = (error as Error).cause; cause instanceof Error; cause = cause.cause) {
    if ('type' in cause && typeof cause.type === 'string') type = cause.type;
  }
  return type;
}

describe('ciPipeline', () => {
  it('completes as no-pipeline when no pipeline matches, asking nothing else', async () => {
    const activities = pipeline({ planPipeline: calls(async (): Promise<PipelinePlan | null> => null) });
    const { result } = await run(activities);
    expect(result).toMatchObject({ outcome: 'no-pipeline', repository: 'acme/api', sha });
    expect(activities.evaluatePolicy.seen).toHaveLength(0);
    expect(activities.recordUsage.seen).toHaveLength(0);
  });

  it('fails with PolicyDenied before any status, step or usage when Cedar denies', async () => {
    const activities = pipeline({
      evaluatePolicy: calls(async (_query: PolicyQuery, _identity: Identity) => decision(false)),
    });
    const { failure } = await run(activities);
    expect(failureType(failure)).toBe('PolicyDenied');
    expect(activities.evaluatePolicy.seen[0]?.[1]).toMatchObject({ principal: webhookSender.principal });
    expect(activities.reportCommitStatus.seen).toHaveLength(0);
    expect(activities.runSteps.seen).toHaveLength(0);
    expect(activities.recordUsage.seen).toHaveLength(0);
  });

  it('runs the steps between a pending and a success status, and records usage for the principal', async () => {
    const activities = pipeline();
    const { result } = await run(activities);
    expect(result).toMatchObject({
      outcome: 'passed',
      runner: 'steps',
      policies: ['maintainers-run-ci'],
      statusErrors: [],
    });
    expect(activities.verifyCommit.seen[0]?.[0]).toEqual({
      provider: 'github',
      repository: 'acme/api',
      sha,
      hook: 'default',
    });
    // What is built is named, never located by the event: the worker derives the clone URL.
    expect(activities.runSteps.seen[0]?.[0]).toMatchObject({ provider: 'github', repository: 'acme/api', sha });
    expect(activities.runSteps.seen[0]?.[0]).not.toHaveProperty('cloneUrl');
    expect(activities.reportCommitStatus.seen.map(([r]) => r.state)).toEqual(['pending', 'success']);
    expect(activities.recordUsage.seen.map(([u]) => [u.metric, u.owner])).toEqual([
      ['jobs', webhookSender.principal],
      ['run_seconds', webhookSender.principal],
    ]);
  });

  it('fails with PipelineFailed at the failing step, after the failure status and the usage', async () => {
    const failed: StepsOutcome = { ok: false, failedStep: 'test', steps: [], durationMs: 5 };
    const activities = pipeline({ runSteps: calls(async (_input: CommitRef & { jobId: string }) => failed) });
    const { failure } = await run(activities);
    expect(failureType(failure)).toBe('PipelineFailed');
    expect(((failure as Error).cause as Error).message).toContain('at step test');
    expect(activities.reportCommitStatus.seen.map(([r]) => r.state)).toEqual(['pending', 'failure']);
    expect(activities.recordUsage.seen).toHaveLength(2);
  });

  it('keeps a refused commit status out of the outcome and in statusErrors', async () => {
    const activities = pipeline({
      reportCommitStatus: calls(async () => {
        throw fail('StatusReportRejected', 'github refused the status (404)');
      }),
    });
    const { result } = await run(activities);
    expect(result?.outcome).toBe('passed');
    expect(result?.statusErrors).toHaveLength(2);
    expect(activities.reportCommitStatus.seen).toHaveLength(2);
  });

  it('marks the run with its concurrency key and cancels the runs it supersedes', async () => {
    const activities = pipeline({
      planPipeline: calls(async () => plan({ cancelSuperseded: true })),
      cancelSupersededRuns: calls(async (_input: { ref: string }) => ['ci.older']),
    });
    const { result } = await run(activities);
    expect(result?.superseded).toEqual(['ci.older']);
    expect(activities.cancelSupersededRuns.seen[0]?.[0]).toMatchObject({
      ref: 'webhook:github/default|acme/api|branch:main',
    });
  });

  it('reports nothing and fails with CheckoutInvalid when the commit cannot be checked out', async () => {
    const activities = pipeline({
      verifyCommit: calls(async (_ref: CommitRef): Promise<{ sha: string }> => {
        throw fail('CheckoutInvalid', 'acme/api has no commit');
      }),
    });
    const { failure } = await run(activities);
    expect(failureType(failure)).toBe('CheckoutInvalid');
    expect(activities.reportCommitStatus.seen).toHaveLength(0);
    expect(activities.runSteps.seen).toHaveLength(0);
  });

  it('fails with CiEventInvalid when the event names no commit', async () => {
    const { failure } = await run(pipeline(), { ...push, after: undefined });
    expect(failureType(failure)).toBe('CiEventInvalid');
  });

  it('cancels a running step, reports the status as cancelled and still records usage', async () => {
    let markStarted = () => {};
    const started = {
      promise: new Promise<void>((resolve) => {
        markStarted = resolve;
      }),
    };
    const activities = pipeline({
      runSteps: calls(async () => {
        markStarted();
        const context = Context.current();
        for (;;) {
          context.heartbeat();
          await context.sleep(100); // throws CancelledFailure once the cancellation arrives
        }
      }),
    });
    const status = await cancelWhen(activities, () => started.promise);
    expect(status).toBe('CANCELLED');
    expect(activities.reportCommitStatus.seen.map(([r]) => r.state)).toEqual(['pending', 'error']);
    expect(activities.recordUsage.seen).toHaveLength(2);
  });
});

describe('ciPipeline with Argo', () => {
  const argoPlan = plan({ runner: 'argo', steps: undefined, argo: { namespace: 'ci', workflowTemplate: 'build' } });
  const phase = (p: string): ArgoOutcome => ({ name: 'gatehouse-x', phase: p });

  it('backs off through an Argo outage while polling, and passes when the workflow succeeds', async () => {
    const phases = ['Running', 'unavailable', 'Succeeded'];
    const activities = pipeline({
      planPipeline: calls(async () => argoPlan),
      submitArgoWorkflow: calls(async (_input: { owner: string; repository: string; sha: string }) => phase('Pending')),
      getArgoWorkflow: calls(async () => {
        const next = phases.shift() ?? 'Succeeded';
        if (next === 'unavailable') throw fail('ArgoUnavailable', 'Argo answered 503');
        return phase(next);
      }),
    });
    const { result } = await run(activities);
    expect(result).toMatchObject({ outcome: 'passed', runner: 'argo', argo: { phase: 'Succeeded' } });
    expect(activities.submitArgoWorkflow.seen).toHaveLength(1);
    expect(activities.submitArgoWorkflow.seen[0]?.[0]).toMatchObject({
      owner: webhookSender.principal,
      repository: 'acme/api',
      sha,
    });
    expect(activities.getArgoWorkflow.seen).toHaveLength(3);
  }, 20_000);

  it("fails with PipelineFailed carrying Argo's phase and message when the Argo Workflow fails", async () => {
    const activities = pipeline({
      planPipeline: calls(async () => argoPlan),
      submitArgoWorkflow: calls(async () => phase('Running')),
      getArgoWorkflow: calls(async () => ({ ...phase('Failed'), message: 'child step exited with code 3' })),
    });
    const { failure } = await run(activities);
    expect(failureType(failure)).toBe('PipelineFailed');
    expect(((failure as Error).cause as Error).message).toBe(
      'pipeline failed: Argo Workflow gatehouse-x Failed: child step exited with code 3',
    );
    expect(activities.reportCommitStatus.seen.map(([r]) => r.state)).toEqual(['pending', 'failure']);
  }, 20_000);

  it('fails once, without retries, when Argo rejects the submission', async () => {
    const activities = pipeline({
      planPipeline: calls(async () => argoPlan),
      submitArgoWorkflow: calls(async () => {
        throw fail('ArgoRejected', 'Argo answered 400');
      }),
    });
    const { failure } = await run(activities);
    expect(activities.submitArgoWorkflow.seen).toHaveLength(1);
    expect(failure).toBeInstanceOf(WorkflowFailedError);
    expect(activities.reportCommitStatus.seen.map(([r]) => r.state)).toEqual(['pending']);
    expect(activities.recordUsage.seen).toHaveLength(2);
  });

  it('stops the Argo Workflow when the job is cancelled', async () => {
    const activities = pipeline({
      planPipeline: calls(async () => argoPlan),
      submitArgoWorkflow: calls(async () => phase('Running')),
      getArgoWorkflow: calls(async () => phase('Running')),
      stopArgoWorkflow: calls(async (_input: { namespace: string; name: string }) => undefined),
    });
    const status = await cancelWhen(activities, () =>
      vi.waitFor(() => expect(activities.getArgoWorkflow.seen.length).toBeGreaterThan(0), {
        timeout: 10_000,
        interval: 50,
      }),
    );
    expect(status).toBe('CANCELLED');
    expect(activities.stopArgoWorkflow.seen[0]?.[0]).toMatchObject({ namespace: 'ci', name: 'gatehouse-x' });
    expect(activities.reportCommitStatus.seen.map(([r]) => r.state)).toEqual(['pending', 'error']);
  });
});
