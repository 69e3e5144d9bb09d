// Concurrent ?wait readers of one job share a describe: one call to Temporal for many readers, a
// reader that must not see an answer from before it woke gets a new call, and one reader's deadline
// or cancellation ends only its own wait.
import type { Client, WorkflowExecutionDescription } from '@temporalio/client';
import { TypedSearchAttributes } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import type { TemporalGateway } from '../../../src/temporal/gateway.js';
import { SharedDescribes } from '../../../src/temporal/shared-describes.js';
import { TemporalUnavailable } from '../../../src/temporal/unavailable.js';

/** A gateway whose describes wait until the test answers them, counting the calls made. */
function heldGateway() {
  const pending: ((status: string) => void)[] = [];
  const client = {
    workflow: {
      getHandle: (jobId: string) => ({
        describe: () =>
          new Promise<WorkflowExecutionDescription>((resolve) => {
            pending.push((status) =>
              resolve({
                memo: {},
                runId: `${jobId}-run`,
                type: 'policyCheck',
                status: { code: 1, name: status },
                startTime: new Date('2030-01-01T00:00:00Z'),
                typedSearchAttributes: new TypedSearchAttributes([]),
                raw: { workflowExecutionInfo: { firstRunId: `${jobId}-run` } },
              } as unknown as WorkflowExecutionDescription),
            );
          }),
      }),
    },
  } as unknown as Client;
  const gateway: TemporalGateway = {
    client,
    namespace: 'default',
    requestTimeoutMs: 2_000,
    call: (fn) => fn(client),
  };
  return { gateway, pending };
}

describe('SharedDescribes', () => {
  it('answers every concurrent reader of a job from one call, and makes a new call once it has answered', async () => {
    const { gateway, pending } = heldGateway();
    const describes = new SharedDescribes(gateway);
    const readers = Array.from({ length: 50 }, () => describes.describe('job-a'));
    const other = describes.describe('job-b');
    expect(pending).toHaveLength(2);
    pending[0]?.('RUNNING');
    pending[1]?.('COMPLETED');
    const answers = await Promise.all(readers);
    expect(new Set(answers.map((a) => a?.view.status))).toEqual(new Set(['RUNNING']));
    expect((await other)?.view.status).toBe('COMPLETED');
    expect(describes.inFlight).toBe(0);
    const later = describes.describe('job-a');
    expect(pending).toHaveLength(3);
    pending[2]?.('COMPLETED');
    expect((await later)?.view.status).toBe('COMPLETED');
  });

  it('does not give a reader an answer begun before notBefore', async () => {
    const { gateway, pending } = heldGateway();
    const describes = new SharedDescribes(gateway);
    const early = describes.describe('job-a');
    const woken = describes.describe('job-a', {}, Date.now() + 1);
    expect(pending).toHaveLength(2);
    pending[0]?.('RUNNING');
    pending[1]?.('COMPLETED');
    expect((await early)?.view.status).toBe('RUNNING');
    expect((await woken)?.view.status).toBe('COMPLETED');
  });

  it("ends only the reader whose deadline passed or whose signal aborted; the others keep the call's answer", async () => {
    const { gateway, pending } = heldGateway();
    const describes = new SharedDescribes(gateway);
    const left = new AbortController();
    const patient = describes.describe('job-a', { deadline: Date.now() + 60_000 });
    const hurried = describes.describe('job-a', { deadline: Date.now() + 20 });
    const leaving = describes.describe('job-a', { signal: left.signal });
    left.abort();
    await expect(leaving).rejects.toBeInstanceOf(TemporalUnavailable);
    await expect(hurried).rejects.toBeInstanceOf(TemporalUnavailable);
    expect(pending).toHaveLength(1);
    pending[0]?.('RUNNING');
    expect((await patient)?.view.status).toBe('RUNNING');
  });
});
