// What the ciPipeline workflow tests share: a push event, a steps plan, and the pipeline's
// activities mocked to let everything through (each test replaces the ones it is about), and
// starting the pipeline for an event as a webhook sender's job.
import type { Client } from '@temporalio/client';
import type { CommitRef, PipelinePlan, StepsOutcome } from '../../activities/ci.js';
import type { UsageEntry } from '../../activities/billing.js';
import type { PolicyDecision, PolicyQuery } from '../../activities/policy.js';
import type { StatusReport } from '../../src/core/commit-status.js';
import type { CiEvent } from '../../src/core/git-event.js';
import type { Identity } from '../../src/core/identity.js';
import { calls, jobRequest, webhookSender } from './workflow-worker.js';

export const ciPush = (after: string): CiEvent => ({
  provider: 'github',
  kind: 'push',
  ref: 'refs/heads/main',
  branch: 'main',
  after,
  repository: { fullName: 'acme/api', cloneUrl: 'https://github.com/acme/api.git' },
});

/** A steps plan with one step, `test`, unless `over` says otherwise. */
export const stepsPlan = (over: Partial<PipelinePlan> = {}): PipelinePlan => ({
  runner: 'steps',
  statusContext: 'gatehouse/ci',
  publicUrl: 'https://gh.test',
  heartbeatTimeoutMs: 2_000,
  argoPollIntervalMs: 50,
  cancelSuperseded: false,
  steps: [{ name: 'test', run: 'true', timeoutMs: 60_000 }],
  ...over,
});

export const policyDecision = (allow: boolean): PolicyDecision => ({
  decision: allow ? 'allow' : 'deny',
  policies: allow ? ['maintainers-run-ci'] : [],
  errors: [],
  principal: { type: 'Gatehouse::User', id: webhookSender.principal },
  evaluatedAt: new Date().toISOString(),
});

const passed: StepsOutcome = { ok: true, steps: [], durationMs: 5 };

/** The pipeline's activities, all succeeding with `plan`; `over` replaces some. */
export function mockPipeline<Over extends object>(plan: () => PipelinePlan, over: Over = {} as Over) {
  return {
    planPipeline: calls(async (_repository: string): Promise<PipelinePlan | null> => plan()),
    evaluatePolicy: calls(async (_query: PolicyQuery, _identity: Identity) => policyDecision(true)),
    reportCommitStatus: calls(async (report: StatusReport) => ({
      provider: report.provider,
      state: report.state,
      status: 201,
    })),
    verifyCommit: calls(async (ref: CommitRef) => ({ sha: ref.sha })),
    runSteps: calls(async (_input: CommitRef & { jobId: string }) => passed),
    recordUsage: calls(async (_entry: UsageEntry) => ({ recorded: true })),
    cancelSupersededRuns: calls(async (_input: { ref: string }) => [] as string[]),
    ...over,
  };
}

/** Starts the ciPipeline workflow for `event`, as the job a webhook sender's push makes. */
export function startPipeline(client: Client, taskQueue: string, event: CiEvent) {
  const request = jobRequest('ci', event, webhookSender);
  return client.workflow.start('ciPipeline', { taskQueue, workflowId: request.jobId, args: [request] });
}
