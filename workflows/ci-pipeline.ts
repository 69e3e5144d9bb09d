// ciPipeline: a Git event (or a `ci` job) through policy → commit status pending → the pipeline
// (steps on a worker, or an Argo Workflow) → commit status success/failure → usage in the ledger.
// A policy deny fails the job non-retryably (PolicyDenied); a failing pipeline fails it with
// PipelineFailed after the status and the usage are recorded. Cancelling the job cancels the
// running step or stops the Argo Workflow, reports the status as cancelled and still records usage.
// The `status` query answers a CiStatus (src/core/ci-status.ts): the phase, and the append-only log
// of phases, steps and Argo progress that the job's event stream is made of. The steps activity
// reports each step as it starts and ends (the `ciStep` signal); the steps of its outcome that no
// signal reported are logged before the phase moves on.
import {
  CancellationScope,
  defineQuery,
  defineSignal,
  isCancellation,
  proxyActivities,
  setHandler,
  sleep,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import type { ArgoOutcome } from '../activities/argo.js';
import type { CommitRef, StepsOutcome } from '../activities/ci.js';
import {
  ciStatusQueryName,
  ciStepSignalName,
  enterPhase,
  newCiStatus,
  recordArgo,
  recordStep,
  type CiStatus,
  type CiStepReport,
} from '../src/core/ci-status.js';
import type { CommitState } from '../src/core/commit-status.js';
import { fail } from '../src/core/failures.js';
import { isCommitSha, isRepositoryName } from '../src/core/git-names.js';
import type { CiEvent } from '../src/core/git-event.js';
import type { JobRequest } from '../src/core/identity.js';
import { activityPolicies, stepsPolicy } from '../src/core/retry-policies.js';
import { concurrencyKey } from '../src/core/concurrency-key.js';
import { refKey } from '../src/core/search-attributes.js';

export type { CiEvent };

export interface CiResult {
  repository: string;
  sha?: string;
  outcome: 'passed' | 'no-pipeline';
  runner?: 'steps' | 'argo';
  policies: string[];
  steps?: StepsOutcome;
  argo?: ArgoOutcome;
  statusErrors: string[];
  superseded?: string[];
}

export const statusQuery = defineQuery<CiStatus>(ciStatusQueryName);
export const stepSignal = defineSignal<[CiStepReport]>(ciStepSignalName);

/** Workflow time, as the log stamps it (deterministic: the time of the current workflow task). */
const now = () => new Date().toISOString();

const { planPipeline, evaluatePolicy, cancelSupersededRuns } = proxyActivities<Activities>(activityPolicies.quick);
const { verifyCommit } = proxyActivities<Activities>(activityPolicies.checkout);
const { reportCommitStatus } = proxyActivities<Activities>(activityPolicies.statusApi);
const { recordUsage } = proxyActivities<Activities>(activityPolicies.ledgerWrite);
const { submitArgoWorkflow, getArgoWorkflow, stopArgoWorkflow } = proxyActivities<Activities>(activityPolicies.argoApi);

export async function ciPipeline(request: JobRequest<CiEvent>): Promise<CiResult> {
  const event = request.input;
  const repository = event.repository.fullName;
  const sha = event.after ?? event.pullRequest?.headSha;
  const status = newCiStatus(repository, sha, now());
  setHandler(statusQuery, () => status);
  setHandler(stepSignal, (report) => {
    recordStep(status, report, now());
  });

  const plan = await planPipeline(repository);
  if (plan === null)
    return {
      repository,
      outcome: 'no-pipeline',
      policies: [],
      statusErrors: [],
      ...(sha === undefined ? {} : { sha }),
    };

  const decision = await evaluatePolicy(
    {
      action: { type: 'Gatehouse::Action', id: 'run-ci' },
      resource: { type: 'Gatehouse::Repository', id: repository },
      context: {
        ...(event.ref === undefined ? {} : { ref: event.ref }),
        ...(event.provider === undefined ? {} : { provider: event.provider }),
      },
    },
    request.identity,
  );
  if (decision.decision === 'deny') {
    throw fail('PolicyDenied', `policy denies run-ci on ${repository} to ${request.identity.principal}`, {
      details: [decision],
    });
  }
  const provider = event.provider;
  if (sha === undefined || provider === undefined || !isCommitSha(sha) || !isRepositoryName(repository)) {
    throw fail('CiEventInvalid', 'the event names no provider, acceptable repository or full commit id to build');
  }
  // What is built is what Cedar allowed: the repository by name, on its provider's configured
  // server. Nothing is reported on a commit until it has been fetched and checked out.
  const commit: CommitRef = {
    provider,
    repository,
    sha,
    ...(request.identity.method === 'webhook' && request.identity.hook !== undefined
      ? { hook: request.identity.hook }
      : {}),
  };
  enterPhase(status, 'checking out', now());
  await verifyCommit(commit);
  // A newer run of the same concurrency key supersedes older ones: mark this run, then cancel those.
  const key = plan.cancelSuperseded ? concurrencyKey(request.identity, event) : undefined;
  let superseded: string[] | undefined;
  if (key !== undefined) {
    upsertSearchAttributes({ [refKey.name]: [key] });
    superseded = await cancelSupersededRuns({
      ref: key,
      workflowId: workflowInfo().workflowId,
      startedBefore: workflowInfo().startTime.toISOString(),
    });
    status.superseded = superseded;
  }

  const statusErrors: string[] = [];
  const info = workflowInfo();
  const report = async (state: CommitState, description: string) => {
    try {
      await reportCommitStatus({
        provider,
        repository,
        sha,
        state,
        description,
        context: plan.statusContext,
        targetUrl: `${plan.publicUrl}/v1/jobs/${request.jobId}`,
      });
    } catch (error) {
      // A status the provider will not take does not fail the build; it is kept in the result.
      statusErrors.push(`${state}: ${(error as Error).message}`);
    }
  };

  const startedAt = Date.now();
  let outcome: { ok: boolean; steps?: StepsOutcome; argo?: ArgoOutcome } | undefined;
  try {
    enterPhase(status, 'running', now());
    await report('pending', `Gatehouse CI is running (${plan.runner})`);
    outcome =
      plan.runner === 'steps'
        ? await runStepsPlan(plan, commit, request.jobId, status)
        : await runArgoPlan(plan, request, sha, status);
    enterPhase(status, outcome.ok ? 'passed' : 'failed', now());
    await report(outcome.ok ? 'success' : 'failure', outcome.ok ? 'Gatehouse CI passed' : 'Gatehouse CI failed');
  } catch (error) {
    if (isCancellation(error)) {
      enterPhase(status, 'cancelled', now());
      await CancellationScope.nonCancellable(() => report('error', 'Gatehouse CI was cancelled'));
    }
    throw error;
  } finally {
    // Usage is recorded whatever happened, once per logical operation (keys survive retries).
    const owner = request.identity.principal;
    const seconds = Math.max(0, Math.round((Date.now() - startedAt) / 1000));
    await CancellationScope.nonCancellable(async () => {
      for (const [metric, quantity] of [
        ['jobs', 1],
        ['run_seconds', seconds],
      ] as const) {
        await recordUsage({
          entryKey: `${info.workflowId}:${info.runId}:${metric}`,
          owner,
          route: request.route,
          repository,
          jobId: request.jobId,
          metric,
          quantity,
        });
      }
    });
  }
  const result: CiResult = {
    repository,
    sha,
    outcome: 'passed',
    runner: plan.runner,
    policies: decision.policies,
    statusErrors,
    ...(superseded === undefined ? {} : { superseded }),
    ...(outcome.steps === undefined ? {} : { steps: outcome.steps }),
    ...(outcome.argo === undefined ? {} : { argo: outcome.argo }),
  };
  if (!outcome.ok) {
    throw fail('PipelineFailed', `pipeline failed${whereItFailed(outcome)}`, {
      details: [{ ...result, outcome: 'failed' }],
    });
  }
  return result;
}

/** The failing step, or the Argo Workflow's final phase and Argo's own message for it. */
function whereItFailed(outcome: { steps?: StepsOutcome; argo?: ArgoOutcome }): string {
  if (outcome.steps?.failedStep !== undefined) return ` at step ${outcome.steps.failedStep}`;
  const argo = outcome.argo;
  if (argo === undefined) return '';
  return `: Argo Workflow ${argo.name} ${argo.phase}${argo.message === undefined ? '' : `: ${argo.message}`}`;
}

type Plan = NonNullable<Awaited<ReturnType<Activities['planPipeline']>>>;

async function runStepsPlan(plan: Plan, commit: CommitRef, jobId: string, status: CiStatus) {
  const steps = plan.steps ?? [];
  const total = steps.reduce((sum, s) => sum + s.timeoutMs, 0);
  const { runSteps } = proxyActivities<Activities>(stepsPolicy(total, plan.heartbeatTimeoutMs));
  status.steps = steps.map((s) => s.name);
  const outcome = await runSteps({ ...commit, jobId, steps, network: plan.network === true, env: plan.env ?? {} });
  // Every finished step is in the log before the phase moves on, whether or not its signal came.
  outcome.steps.forEach((step, index) =>
    recordStep(
      status,
      {
        index,
        name: step.name,
        state: step.exitCode === 0 ? 'passed' : 'failed',
        exitCode: step.exitCode,
        signal: step.signal,
        timedOut: step.timedOut,
        durationMs: step.durationMs,
      },
      now(),
    ),
  );
  return { ok: outcome.ok, steps: outcome };
}

async function runArgoPlan(plan: Plan, request: JobRequest<CiEvent>, sha: string, status: CiStatus) {
  const argo = plan.argo;
  if (argo === undefined) throw fail('PipelineMisconfigured', 'argo runner without argo settings');
  const owner = request.identity.principal;
  let current = await submitArgoWorkflow({
    namespace: argo.namespace,
    jobId: request.jobId,
    route: request.route,
    owner,
    sha,
    repository: request.input.repository.fullName,
    ...(argo.workflowTemplate === undefined ? {} : { workflowTemplate: argo.workflowTemplate }),
    ...(argo.entrypoint === undefined ? {} : { entrypoint: argo.entrypoint }),
    ...(argo.manifest === undefined ? {} : { manifest: argo.manifest }),
  });
  // Polled from the workflow, so phase, progress and message show in the `status` query; the
  // interval backs off from 1 s to the configured maximum.
  let interval = 1_000;
  try {
    while (!argoFinishedPhases.includes(current.phase)) {
      recordArgo(status, { ...current, namespace: argo.namespace }, now());
      await sleep(interval);
      interval = Math.min(interval * 2, plan.argoPollIntervalMs);
      current = await getArgoWorkflow({ namespace: argo.namespace, name: current.name, owner });
    }
  } catch (error) {
    if (isCancellation(error)) {
      await CancellationScope.nonCancellable(() =>
        stopArgoWorkflow({ namespace: argo.namespace, name: current.name, owner }),
      );
    }
    throw error;
  }
  recordArgo(status, { ...current, namespace: argo.namespace }, now());
  return { ok: current.phase === 'Succeeded', argo: current };
}

/** Argo's final phases (kept here: workflows import only types from activities/). */
const argoFinishedPhases = ['Succeeded', 'Failed', 'Error'];
