// Workflow tests: a real worker on the run's one Temporal dev server, on a task queue of its own,
// with the prebuilt workflow bundle and *mocked* activities, so a workflow's every branch runs in
// about a second, with no HTTP, git or fake servers. Each test names only the activities its path
// should call; any other activity fails loudly. As in production, a second worker polls the
// queue's callbacks queue (callbackPostQueue) with the same activities.
import { randomUUID } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { afterAll, beforeAll, inject } from 'vitest';
import type { Activities } from '../../activities/index.js';
import { callbackPostQueue } from '../../src/core/callbacks.js';
import type { Identity, JobRequest } from '../../src/core/identity.js';

export interface WorkflowHarness {
  client: Client;
  /** Runs `body` while a worker with these activities polls a fresh task queue. */
  withWorker<T>(activities: Partial<Activities>, body: (taskQueue: string) => Promise<T>): Promise<T>;
}

export function useWorkflowHarness(): WorkflowHarness {
  const harness = {} as WorkflowHarness;
  let clientConnection: Connection;
  let workerConnection: NativeConnection;
  beforeAll(async () => {
    const address = inject('temporalAddress');
    clientConnection = await Connection.connect({ address });
    workerConnection = await NativeConnection.connect({ address });
    harness.client = new Client({ connection: clientConnection });
    harness.withWorker = async (activities, body) => {
      const taskQueue = `wf-${randomUUID()}`;
      const worker = await Worker.create({
        connection: workerConnection,
        taskQueue,
        workflowBundle: { codePath: inject('workflowBundlePath') },
        activities: guarded(activities),
      });
      const posts = await Worker.create({
        connection: workerConnection,
        taskQueue: callbackPostQueue(taskQueue),
        activities: guarded(activities),
      });
      return worker.runUntil(posts.runUntil(body(taskQueue)));
    };
  });
  afterAll(async () => {
    await clientConnection?.close();
    await workerConnection?.close();
  });
  return harness;
}

/** Every activity name a workflow may call; those a test did not mock fail non-retryably. */
const activityNames: Array<keyof Activities> = [
  'evaluatePolicy',
  'queryUsage',
  'recordUsage',
  'planPipeline',
  'verifyCommit',
  'cancelSupersededRuns',
  'runSteps',
  'reportCommitStatus',
  'submitArgoWorkflow',
  'getArgoWorkflow',
  'stopArgoWorkflow',
  'readJobClose',
  'postCallback',
  'readHookHealth',
  'listHookDeliveries',
  'redeliverHookDelivery',
  'deliveriesSeen',
  'saveReconcileState',
  'reportReconcile',
];
function guarded(activities: Partial<Activities>): Record<string, unknown> {
  return Object.fromEntries(
    activityNames.map((name) => [
      name,
      activities[name] ??
        (async () => {
          throw ApplicationFailure.nonRetryable(`unexpected activity ${name}`, 'UnexpectedActivity');
        }),
    ]),
  );
}

export const apiCaller: Identity = {
  method: 'jwt',
  principal: 'jwt:https://idp.test#ada',
  issuer: 'https://idp.test',
  subject: 'ada',
  groups: ['maintainers'],
  roles: [],
  scopes: [],
};

export const webhookSender: Identity = {
  method: 'webhook',
  principal: 'webhook:github:21031067',
  issuer: 'webhook:github',
  subject: '21031067',
  login: 'Codertocat',
  groups: [],
  roles: [],
  scopes: [],
  provider: 'github',
  hook: 'default',
};

export function jobRequest<Input>(route: string, input: Input, identity: Identity = apiCaller): JobRequest<Input> {
  return { jobId: `${route}.${randomUUID().replaceAll('-', '')}`, route, input, identity };
}

/** A recorder of calls to a mocked activity. */
export function calls<A extends unknown[], R>(impl: (...args: A) => Promise<R>) {
  const seen: A[] = [];
  const fn = async (...args: A) => {
    seen.push(args);
    return impl(...args);
  };
  return Object.assign(fn, { seen });
}
