// The callback interceptor and deliverCallback, on the run's Temporal dev server with the job's
// activities mocked, the POST mocked, and the job's final state read back from Temporal by the
// real reader: a job whose memo names a callback gets its `<jobId>.callback` child before its own
// code runs, and that child delivers once, however the job closes (completed, failed, cancelled,
// terminated, timed out), with the job's state as GET /v1/jobs/{jobId} would show it; failed
// attempts are retried by the callback policy, on the callbacks' own queue; the receiver and the
// caller's groups travel to each attempt; a job without a callback starts nothing; histories
// recorded before receivers and the callbacks queue existed replay.
import { readFileSync } from 'node:fs';
import { Context } from '@temporalio/activity';
import { WorkflowFailedError, WorkflowNotFoundError, type WorkflowHandle } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import { describe, expect, inject, it } from 'vitest';
import { createCallbackActivities } from '../../activities/callback.js';
import { HostBreaker } from '../../activities/host-breaker.js';
import type { PolicyDecision, PolicyQuery } from '../../activities/policy.js';
import {
  callbackPostQueue,
  callbackWorkflowId,
  type CallbackDelivery,
  type CallbackMemo,
  type CallbackRetry,
} from '../../src/core/callbacks.js';
import { fail } from '../../src/core/failures.js';
import type { Identity } from '../../src/core/identity.js';
import { sourceKey } from '../../src/core/search-attributes.js';
import { createTemporalGateway } from '../../src/temporal/gateway.js';
import { readJob } from '../../src/temporal/read-job.js';
import type { CallbackOutcome } from '../../workflows/deliver-callback.js';
import { apiCaller, calls, jobRequest, useWorkflowHarness } from '../helpers/workflow-worker.js';

const h = useWorkflowHarness();
const retry: CallbackRetry = {
  initialIntervalMs: 50,
  maximumIntervalMs: 200,
  retryForMs: 20_000,
  attemptTimeoutMs: 1_000,
};
const url = 'https://hooks.example.test/gatehouse?token=t';
const query: PolicyQuery = {
  action: { type: 'Gatehouse::Action', id: 'deploy' },
  resource: { type: 'Gatehouse::Repository', id: 'acme/api' },
};
const allow: PolicyDecision = {
  decision: 'allow',
  policies: ['maintainers-deploy'],
  errors: [],
  principal: { type: 'Gatehouse::User', id: apiCaller.principal },
  evaluatedAt: '2026-01-01T00:00:00.000Z',
};

/** The queue each mocked POST ran on. */
const postQueues: string[] = [];

/**
 * A gate the mocked job activity waits on, so a test can act while the job is running: `policy`
 * is an evaluatePolicy that waits until `open()`, then allows; `reached` resolves once it runs.
 */
function gate() {
  let open!: () => void;
  let entered!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  const reached = new Promise<void>((resolve) => (entered = resolve));
  const policy = async () => {
    entered();
    await opened;
    return allow;
  };
  return { open, reached, policy };
}

function activities(over: Record<string, unknown> = {}) {
  // Only readJobClose is real here; the POST is mocked.
  const real = createCallbackActivities({
    readJob: (jobId) =>
      readJob(createTemporalGateway(h.client, { namespace: 'default', requestTimeoutMs: 10_000 }), jobId),
    keys: new Map(),
    check: () => ({ ok: false, detail: 'not used' }),
    retry,
    breaker: new HostBreaker({ failures: 5, coolDownMs: 1_000 }),
  });
  const postCallback = calls(async (_delivery: CallbackDelivery) => {
    postQueues.push(Context.current().info.taskQueue);
    return { status: 204, attempt: Context.current().info.attempt };
  });
  return { readJobClose: real.readJobClose, postCallback, ...over };
}

interface Started {
  jobId: string;
  job: WorkflowHandle;
  callback: WorkflowHandle;
}

/** Starts a policyCheck job as the bridge would, with the callback in its memo. */
async function startJob(
  taskQueue: string,
  options: { callback?: CallbackMemo | null; executionTimeout?: string } = {},
): Promise<Started> {
  const request = jobRequest('policy-check', query);
  const callback = options.callback === undefined ? { url, origin: 'header' as const } : options.callback;
  const job = await h.client.workflow.start('policyCheck', {
    taskQueue,
    workflowId: request.jobId,
    args: [request],
    memo: {
      identity: apiCaller,
      request: { route: 'policy-check', bodySha256: '0'.repeat(64) },
      ...(callback === null ? {} : { callback }),
    },
    typedSearchAttributes: [{ key: sourceKey, value: 'api' }],
    ...(options.executionTimeout === undefined ? {} : { workflowExecutionTimeout: options.executionTimeout }),
  });
  return { jobId: request.jobId, job, callback: h.client.workflow.getHandle(callbackWorkflowId(request.jobId)) };
}

/** The one delivery made, checked against the job as Temporal describes it. */
async function deliveredOnce(
  started: Started,
  posted: { seen: Array<[CallbackDelivery]> },
  type: string,
): Promise<CallbackDelivery> {
  const outcome = (await started.callback.result()) as CallbackOutcome;
  expect(outcome).toMatchObject({ status: 204, webhookId: started.jobId, type });
  expect(posted.seen).toHaveLength(1);
  const delivery = posted.seen[0]![0];
  const description = await started.job.describe();
  expect(delivery).toMatchObject({ url, webhookId: started.jobId });
  expect(delivery.event).toMatchObject({
    type,
    timestamp: description.closeTime?.toISOString(),
    data: {
      jobId: started.jobId,
      runId: description.runId,
      route: 'policy-check',
      workflowType: 'policyCheck',
      source: 'api',
      owner: apiCaller.principal,
      startedAt: description.startTime.toISOString(),
      closedAt: description.closeTime?.toISOString(),
    },
  });
  return delivery;
}

describe('the callback interceptor and deliverCallback', () => {
  it("starts the callback before the job's code runs, and delivers the completed job's result once", async () => {
    const mocks = activities({
      evaluatePolicy: calls(async (_query: PolicyQuery, _identity: Identity) => {
        // The child exists, waiting, before the job's first activity.
        const child = await h.client.workflow
          .getHandle(callbackWorkflowId(Context.current().info.workflowExecution?.workflowId ?? ''))
          .describe();
        expect(child.status.name).toBe('RUNNING');
        return allow;
      }),
    });
    await h.withWorker(mocks, async (taskQueue) => {
      const started = await startJob(taskQueue);
      await started.job.result();
      const delivery = await deliveredOnce(started, mocks.postCallback, 'job.completed');
      expect(delivery.event.data).toMatchObject({ status: 'COMPLETED', result: { decision: 'allow' } });
      expect(delivery.event.data).not.toHaveProperty('failure');
      const child = await started.callback.describe();
      expect(child.parentExecution?.workflowId).toBe(started.jobId);
    });
  });

  it("delivers a failed job's failure type", async () => {
    const mocks = activities({
      evaluatePolicy: async () => {
        throw fail('PolicyRequestInvalid', 'no such entity type');
      },
    });
    await h.withWorker(mocks, async (taskQueue) => {
      const started = await startJob(taskQueue);
      await expect(started.job.result()).rejects.toBeInstanceOf(WorkflowFailedError);
      const delivery = await deliveredOnce(started, mocks.postCallback, 'job.failed');
      expect(delivery.event.data).toMatchObject({
        status: 'FAILED',
        failure: { type: 'PolicyRequestInvalid', message: 'no such entity type' },
      });
    });
  });

  for (const [how, type, status] of [
    ['cancelled', 'job.canceled', 'CANCELED'],
    ['terminated', 'job.terminated', 'TERMINATED'],
    ['timed out', 'job.timed_out', 'TIMED_OUT'],
  ] as const) {
    it(`delivers a job ${how} while its activity runs`, async () => {
      const running = gate();
      const mocks = activities({ evaluatePolicy: running.policy });
      try {
        await h.withWorker(mocks, async (taskQueue) => {
          const started = await startJob(taskQueue, how === 'timed out' ? { executionTimeout: '2s' } : {});
          await running.reached;
          if (how === 'cancelled') await started.job.cancel();
          if (how === 'terminated') await started.job.terminate('test');
          await expect(started.job.result()).rejects.toBeInstanceOf(WorkflowFailedError);
          const delivery = await deliveredOnce(started, mocks.postCallback, type);
          expect(delivery.event.data.status).toBe(status);
          running.open();
        });
      } finally {
        running.open();
      }
    });
  }

  it('retries failed attempts with the callback policy, and gives up on a final refusal', async () => {
    let failures = 2;
    const flaky = activities({
      evaluatePolicy: async () => allow,
      postCallback: calls(async (_delivery: CallbackDelivery) => {
        if (failures-- > 0) throw fail('CallbackUnavailable', 'answered 503');
        return { status: 204, attempt: Context.current().info.attempt };
      }),
    });
    await h.withWorker(flaky, async (taskQueue) => {
      const started = await startJob(taskQueue);
      await started.job.result();
      expect(await started.callback.result()).toMatchObject({ status: 204, attempt: 3 });
      expect(new Set(flaky.postCallback.seen.map(([d]) => JSON.stringify(d)))).toHaveProperty('size', 1);
    });

    const gone = activities({
      evaluatePolicy: async () => allow,
      postCallback: calls(async (_delivery: CallbackDelivery): Promise<{ status: number; attempt: number }> => {
        throw fail('CallbackRejected', 'answered 410 Gone');
      }),
    });
    await h.withWorker(gone, async (taskQueue) => {
      const started = await startJob(taskQueue);
      await started.job.result();
      const error = await started.callback.result().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(WorkflowFailedError);
      expect((error as WorkflowFailedError).cause).toMatchObject({ type: 'CallbackUndelivered' });
      expect(gone.postCallback.seen).toHaveLength(1);
    });
  });

  it('keeps waiting when woken while the job still runs, and delivers once it closes', async () => {
    const running = gate();
    const mocks = activities({ evaluatePolicy: running.policy });
    try {
      await h.withWorker(mocks, async (taskQueue) => {
        const started = await startJob(taskQueue);
        await running.reached;
        // Somebody cancels the callback by hand: it reads the job, finds it running, and waits on.
        await started.callback.cancel();
        const reads = async () =>
          ((await started.callback.fetchHistory()).events ?? []).filter(
            (event) => event.activityTaskScheduledEventAttributes?.activityType?.name === 'readJobClose',
          ).length;
        await expect.poll(reads, { timeout: 10_000 }).toBeGreaterThanOrEqual(2);
        expect(mocks.postCallback.seen).toHaveLength(0);
        running.open();
        await started.job.result();
        await deliveredOnce(started, mocks.postCallback, 'job.completed');
      });
    } finally {
      running.open();
    }
  });

  it('starts the callback on the queue the memo names (callbacks.taskQueue)', async () => {
    const mocks = activities({ evaluatePolicy: async () => allow });
    await h.withWorker(mocks, async (taskQueue) => {
      const elsewhere = `${taskQueue}-callbacks`;
      const started = await startJob(taskQueue, { callback: { url, origin: 'route', taskQueue: elsewhere } });
      await started.job.result();
      // Nobody polls that queue here: the callback waits there for its worker.
      const child = await started.callback.describe();
      expect(child).toMatchObject({ taskQueue: elsewhere, status: { name: 'RUNNING' } });
      expect(mocks.postCallback.seen).toHaveLength(0);
      await started.callback.terminate('test over');
    });
  });

  it("posts on the callbacks' own queue, never the job's, with the receiver and the caller's groups from the memo", async () => {
    const mocks = activities({ evaluatePolicy: async () => allow });
    await h.withWorker(mocks, async (taskQueue) => {
      postQueues.length = 0;
      const named = await startJob(taskQueue, { callback: { url, origin: 'header', receiver: 'hooks' } });
      await named.job.result();
      const delivery = await deliveredOnce(named, mocks.postCallback, 'job.completed');
      expect(delivery).toMatchObject({ receiver: 'hooks', caller: { groups: apiCaller.groups } });
      expect(postQueues).toEqual([callbackPostQueue(taskQueue)]);
      const scheduled = ((await named.callback.fetchHistory()).events ?? []).flatMap((event) => {
        const attributes = event.activityTaskScheduledEventAttributes;
        return attributes?.activityType?.name === 'postCallback' ? [attributes.taskQueue?.name] : [];
      });
      expect(scheduled).toEqual([callbackPostQueue(taskQueue)]);

      // A route's default: no caller named it, so none travels.
      mocks.postCallback.seen.length = 0;
      const byRoute = await startJob(taskQueue, { callback: { url, origin: 'route', receiver: 'hooks' } });
      await byRoute.job.result();
      const routeDelivery = await deliveredOnce(byRoute, mocks.postCallback, 'job.completed');
      expect(routeDelivery.receiver).toBe('hooks');
      expect(routeDelivery).not.toHaveProperty('caller');
    });
  });

  it('replays histories recorded before receivers and the callbacks queue (a job and its callback)', async () => {
    // Recorded from the code before this change: the callback child started from the memo's URL
    // alone, and its POST scheduled on the job's own queue.
    for (const name of ['policy-check-with-callback', 'deliver-callback']) {
      const recorded = JSON.parse(readFileSync(`test/fixtures/histories/${name}.json`, 'utf8')) as {
        workflowId: string;
        history: Record<string, unknown>;
      };
      const history = temporal.api.history.v1.History.fromObject(recorded.history);
      await expect(
        Worker.runReplayHistory(
          { workflowBundle: { codePath: inject('workflowBundlePath') } },
          history,
          recorded.workflowId,
        ),
        name,
      ).resolves.toBeUndefined();
    }
  });

  it('starts nothing for a job without a callback', async () => {
    const mocks = activities({ evaluatePolicy: async () => allow });
    await h.withWorker(mocks, async (taskQueue) => {
      const started = await startJob(taskQueue, { callback: null });
      await started.job.result();
      await expect(started.callback.describe()).rejects.toBeInstanceOf(WorkflowNotFoundError);
    });
  });
});
