// ciPipeline: a Git event (or a `ci` job) through policy → commit status pending → the pipeline
// (steps on a worker, or an Argo Workflow) → commit status success/failure → usage in the ledger.
// A policy deny fails the job non-retryably (PolicyDenied); a failing pipeline fails it with
// PipelineFailed after the status and the usage are recorded. Cancelling the job cancels the
// running step or stops the Argo Workflow, reports the status as cancelled and still records usage.
import {
  ApplicationFailure, CancellationScope, defineQuery, isCancellation, proxyActivities, setHandler, sleep, upsertSearchAttributes, workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import type { ArgoOutcome } from '../activities/argo.js';
import type { StepsOutcome } from '../activities/ci.js';
import type { CommitState } from '../activities/git-status.js';
import type { GitEvent, JobRequest } from '../activities/types.js';

/** What a `ci` job sends; a normalized GitEvent from a webhook has the same fields. */
export type CiEvent = Pick<GitEvent, 'repository'> & Partial<Pick<GitEvent, 'provider' | 'ref' | 'branch' | 'after' | 'pullRequest' | 'kind'>>;

export interface CiResult {
  repository: string;
  sha?: string;
  outcome: 'passed' | 'no-pipeline';
  runner?: 'steps' | 'argo';
  policies: string[];
  steps?: StepsOutcome;
  argo?: ArgoOutcome;
  statusErrors: string[];
}

export const statusQuery = defineQuery<Record<string, unknown>>('status');

// Retry policies, chosen per activity (README: "Retry policies"):
const { planPipeline, evaluatePolicy, cancelSupersededRuns } = proxyActivities<Activities>({
  startToCloseTimeout: '10 seconds',
  retry: { maximumAttempts: 3, initialInterval: '1 second' },
});
// Status APIs flap: retry 5xx/429/network with backoff for about two minutes; a 4xx cannot heal.
const { reportCommitStatus } = proxyActivities<Activities>({
  startToCloseTimeout: '15 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds', maximumAttempts: 8, nonRetryableErrorTypes: ['StatusReportRejected', 'StatusReportUnconfigured'] },
});
// The ledger write is idempotent by key, so retrying it is always safe.
const { recordUsage } = proxyActivities<Activities>({
  startToCloseTimeout: '10 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds', maximumAttempts: 20 },
});

export async function ciPipeline(request: JobRequest<CiEvent>): Promise<CiResult> {
  const event = request.input;
  const repository = event.repository.fullName;
  const sha = event.after ?? event.pullRequest?.headSha;
  const status: Record<string, unknown> = { phase: 'planning', repository, sha };
  setHandler(statusQuery, () => status);

  const plan = await planPipeline(repository);
  if (plan === null) return { repository, outcome: 'no-pipeline', policies: [], statusErrors: [], ...(sha === undefined ? {} : { sha }) };

  const decision = await evaluatePolicy({
    action: { type: 'Gatehouse::Action', id: 'run-ci' },
    resource: { type: 'Gatehouse::Repository', id: repository },
    context: { ...(event.ref === undefined ? {} : { ref: event.ref }), ...(event.provider === undefined ? {} : { provider: event.provider }) },
  }, request.identity);
  if (decision.decision === 'deny') {
    throw ApplicationFailure.create({ message: `policy denies run-ci on ${repository} to ${request.identity.subject}`, type: 'PolicyDenied', nonRetryable: true, details: [decision] });
  }
  if (sha === undefined || event.repository.cloneUrl === undefined) {
    throw ApplicationFailure.create({ message: 'the event names no commit or clone URL to build', type: 'CiEventInvalid', nonRetryable: true });
  }
  // A newer push to the same branch supersedes older runs: mark this run, then cancel those.
  if (plan.cancelSuperseded && event.branch !== undefined) {
    const ref = `${repository}@${event.branch}`;
    upsertSearchAttributes({ GatehouseRef: [ref] });
    status.superseded = await cancelSupersededRuns({ ref, workflowId: workflowInfo().workflowId, startedBefore: workflowInfo().startTime.toISOString() });
  }

  const statusErrors: string[] = [];
  const info = workflowInfo();
  const report = async (state: CommitState, description: string) => {
    if (event.provider === undefined) return;
    try {
      await reportCommitStatus({
        provider: event.provider, repository, sha, state, description, context: plan.statusContext,
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
    status.phase = 'running';
    await report('pending', `Gatehouse CI is running (${plan.runner})`);
    outcome = plan.runner === 'steps'
      ? await runStepsPlan(plan, event.repository.cloneUrl, sha, status)
      : await runArgoPlan(plan, request, sha, status);
    status.phase = outcome.ok ? 'passed' : 'failed';
    await report(outcome.ok ? 'success' : 'failure', outcome.ok ? 'Gatehouse CI passed' : 'Gatehouse CI failed');
  } catch (error) {
    if (isCancellation(error)) {
      status.phase = 'cancelled';
      await CancellationScope.nonCancellable(() => report('error', 'Gatehouse CI was cancelled'));
    }
    throw error;
  } finally {
    // Usage is recorded whatever happened, once per logical operation (keys survive retries).
    const owner = request.identity.subject;
    const seconds = Math.max(0, Math.round((Date.now() - startedAt) / 1000));
    await CancellationScope.nonCancellable(async () => {
      for (const [metric, quantity] of [['jobs', 1], ['run_seconds', seconds]] as const) {
        await recordUsage({ entryKey: `${info.workflowId}:${info.runId}:${metric}`, owner, route: request.route, repository, jobId: request.jobId, metric, quantity });
      }
    });
  }
  const result: CiResult = {
    repository, sha, outcome: 'passed', runner: plan.runner, policies: decision.policies, statusErrors,
    ...(outcome.steps === undefined ? {} : { steps: outcome.steps }), ...(outcome.argo === undefined ? {} : { argo: outcome.argo }),
  };
  if (!outcome.ok) {
    throw ApplicationFailure.create({ message: `pipeline failed${outcome.steps?.failedStep === undefined ? '' : ` at step ${outcome.steps.failedStep}`}`, type: 'PipelineFailed', nonRetryable: true, details: [{ ...result, outcome: 'failed' }] });
  }
  return result;
}

type Plan = NonNullable<Awaited<ReturnType<Activities['planPipeline']>>>;

async function runStepsPlan(plan: Plan, cloneUrl: string, sha: string, status: Record<string, unknown>) {
  const steps = plan.steps ?? [];
  const total = steps.reduce((sum, s) => sum + s.timeoutMs, 0);
  // One activity for the whole checkout: heartbeats carry the completed steps, so a retry after a
  // worker crash resumes after them. A SHA the repository does not have cannot appear on retry.
  const { runSteps } = proxyActivities<Activities>({
    startToCloseTimeout: total + 300_000,
    heartbeatTimeout: plan.heartbeatTimeoutMs,
    retry: { maximumAttempts: 3, initialInterval: '1 second', nonRetryableErrorTypes: ['CheckoutInvalid'] },
    cancellationType: 'WAIT_CANCELLATION_COMPLETED',
  });
  status.steps = steps.map((s) => s.name);
  const outcome = await runSteps({ cloneUrl, sha, steps });
  return { ok: outcome.ok, steps: outcome };
}

async function runArgoPlan(plan: Plan, request: JobRequest<CiEvent>, sha: string, status: Record<string, unknown>) {
  const argo = plan.argo;
  if (argo === undefined) throw ApplicationFailure.create({ message: 'argo runner without argo settings', type: 'PipelineMisconfigured', nonRetryable: true });
  // Argo calls: 429/5xx/network retried with backoff; 400/401/403/404 are ArgoRejected, final.
  const { submitArgoWorkflow, getArgoWorkflow, stopArgoWorkflow } = proxyActivities<Activities>({
    startToCloseTimeout: '60 seconds',
    retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '30 seconds', maximumAttempts: 10, nonRetryableErrorTypes: ['ArgoRejected'] },
  });
  const owner = request.identity.subject;
  let current = await submitArgoWorkflow({
    namespace: argo.namespace, jobId: request.jobId, route: request.route, owner, sha,
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
      status.argo = current;
      await sleep(interval);
      interval = Math.min(interval * 2, plan.argoPollIntervalMs);
      current = await getArgoWorkflow({ namespace: argo.namespace, name: current.name, owner });
    }
  } catch (error) {
    if (isCancellation(error)) {
      await CancellationScope.nonCancellable(() => stopArgoWorkflow({ namespace: argo.namespace, name: current.name, owner }));
    }
    throw error;
  }
  status.argo = current;
  return { ok: current.phase === 'Succeeded', argo: current };
}

/** Argo's final phases (kept here: workflows import only types from activities/). */
const argoFinishedPhases = ['Succeeded', 'Failed', 'Error'];
