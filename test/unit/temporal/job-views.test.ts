// Reading a job from what Temporal answers, the same way for every door: a description (GET, the
// replay rules, the start's replay check, the callback), a visibility row (lists), a closed run's
// failure, and a call's deadline.
import type { WorkflowExecutionDescription } from '@temporalio/client';
import { ApplicationFailure, defaultPayloadConverter, TypedSearchAttributes } from '@temporalio/common';
// @temporalio/proto is CommonJS whose named exports Node's ESM loader cannot detect: default import.
import protos from '@temporalio/proto';
import { describe, expect, it } from 'vitest';
import { ownerKey, routeKey, sourceKey } from '../../../src/core/search-attributes.js';
import { describedJob } from '../../../src/temporal/describe-job.js';
import { callDeadline } from '../../../src/temporal/gateway.js';
import { rootFailure } from '../../../src/temporal/job-outcome.js';
import { contractStatus } from '../../../src/temporal/job-status.js';
import { jobViewOfExecution } from '../../../src/temporal/list-jobs.js';

const principal = 'jwt:https://idp.test#ada';
const memo = {
  identity: { method: 'jwt', principal, subject: 'ada', issuer: 'https://idp.test', groups: [], roles: [], scopes: [] },
  request: { requestId: 'r', route: 'policy-check', receivedAt: '', clientAddress: '', bodySha256: 'ab' },
  callback: { url: 'https://hooks.test/a', origin: 'header' },
};

function description(over: Partial<WorkflowExecutionDescription> = {}) {
  return {
    memo,
    runId: 'run-1',
    type: 'policyCheck',
    status: { code: 2, name: 'CANCELLED' },
    startTime: new Date('2030-01-01T00:00:00Z'),
    closeTime: new Date('2030-01-01T00:00:05Z'),
    typedSearchAttributes: new TypedSearchAttributes([{ key: sourceKey, value: 'github' }]),
    raw: { workflowExecutionInfo: { firstRunId: 'run-0' } },
    ...over,
  } as WorkflowExecutionDescription;
}

describe('describedJob', () => {
  it('reads the view from the memo and the source attribute, spelling statuses as the API does', () => {
    const job = describedJob('policy-check.x', description());
    expect(job.view).toEqual({
      jobId: 'policy-check.x',
      runId: 'run-1',
      route: 'policy-check',
      workflowType: 'policyCheck',
      source: 'github',
      owner: principal,
      status: 'CANCELED',
      startedAt: '2030-01-01T00:00:00.000Z',
      closedAt: '2030-01-01T00:00:05.000Z',
    });
    expect(job.memo?.identity.principal).toBe(principal);
    expect(job.rawMemo.callback).toEqual(memo.callback);
    // A rerun reads the request's input from the chain's first run, not the latest one.
    expect(job.firstRunId).toBe('run-0');
  });

  it('has no memo for a workflow started without one, and says what its search attributes say', () => {
    const job = describedJob(
      'x',
      description({
        memo: {},
        closeTime: undefined,
        status: { code: 1, name: 'RUNNING' },
        typedSearchAttributes: new TypedSearchAttributes([
          { key: ownerKey, value: 'webhook:github:1' },
          { key: routeKey, value: 'ci' },
        ]),
      }),
    );
    expect(job.memo).toBeUndefined();
    expect(job.view).toMatchObject({ route: 'ci', owner: 'webhook:github:1', source: 'api', status: 'RUNNING' });
    expect(job.view).not.toHaveProperty('closedAt');
    // A server that does not say which run came first: the run described is taken as the first.
    expect(describedJob('x', description({ raw: { workflowExecutionInfo: {} } } as never)).firstRunId).toBe('run-1');
  });
});

describe('jobViewOfExecution', () => {
  it('reads a visibility row: search attributes, the raw status enum, protobuf timestamps', () => {
    const keyword = (value: string) => defaultPayloadConverter.toPayload(value);
    const view = jobViewOfExecution({
      execution: { workflowId: 'ci.y', runId: 'run-9' },
      type: { name: 'ciPipeline' },
      status: protos.temporal.api.enums.v1.WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_CANCELED,
      startTime: protos.google.protobuf.Timestamp.fromObject({ seconds: 1_900_000_000, nanos: 250_000_000 }),
      searchAttributes: {
        indexedFields: {
          [ownerKey.name]: keyword(principal),
          [routeKey.name]: keyword('ci'),
          [sourceKey.name]: keyword('gitlab'),
        },
      },
    });
    expect(view).toEqual({
      jobId: 'ci.y',
      runId: 'run-9',
      route: 'ci',
      workflowType: 'ciPipeline',
      source: 'gitlab',
      owner: principal,
      status: 'CANCELED',
      startedAt: '2030-03-17T17:46:40.250Z',
    });
  });
});

describe('rootFailure', () => {
  it('reports the innermost typed failure, not the wrappers around it', () => {
    const typed = ApplicationFailure.nonRetryable('step two exited 4', 'StepFailed');
    const wrapped = new Error('Workflow execution failed', {
      cause: new Error('Activity task failed', { cause: typed }),
    });
    expect(rootFailure(wrapped)).toEqual({ message: 'step two exited 4', type: 'StepFailed' });
    expect(rootFailure(new Error('outer', { cause: new Error('inner') }))).toEqual({ message: 'inner' });
  });

  it('spells the SDK’s CANCELLED as the API’s CANCELED and leaves the rest', () => {
    expect(contractStatus('CANCELLED')).toBe('CANCELED');
    expect(contractStatus('CONTINUED_AS_NEW')).toBe('CONTINUED_AS_NEW');
  });
});

describe('callDeadline', () => {
  it('gives a call its own timeout, never past the budget it shares, and lets a long-poll ask for more', () => {
    expect(callDeadline(1_000, 2_000, {})).toBe(3_000);
    expect(callDeadline(1_000, 2_000, { deadline: 2_500 })).toBe(2_500);
    expect(callDeadline(1_000, 2_000, { deadline: 9_000 })).toBe(3_000);
    expect(callDeadline(1_000, 2_000, { timeoutMs: 30_000 })).toBe(31_000);
    expect(callDeadline(1_000, 2_000, { timeoutMs: 30_000, deadline: 5_000 })).toBe(5_000);
  });
});
