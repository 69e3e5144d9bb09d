// The reconciler's budget against Temporal's 2 MB payloads, on the run's Temporal dev server
// with the provider and the delivery log mocked: a provider that lists far more deliveries since
// the last check than the budget holds (15,000, in pages of 1,000, which GitHub never sends but a
// hostile API may) gets 10,000 examined and the check reported truncated; the delivery log is asked
// about them 1,000 at a time, and what is saved stays small. Before, a check examined all it was
// listed (the budget was 100,000: about 4 MB of guids in one question to the log, which Temporal
// refuses).
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { ReconcileReport } from '../../activities/reconcile.js';
import type { ReconcileInput, ReconcileState } from '../../src/core/reconcile.js';
import type { DeliveryListing } from '../../src/providers/reconciler.js';
import { calls, useWorkflowHarness } from '../helpers/workflow-worker.js';

const h = useWorkflowHarness();

/** `pages` pages of `perPage` deliveries that all arrived, newest first, sent in the last minutes. */
function provider(pages: number, perPage: number) {
  const now = Date.now();
  return calls(async (input: { hook: string; cursor?: string }): Promise<DeliveryListing> => {
    const page = input.cursor === undefined ? 0 : Number(input.cursor);
    const deliveries = Array.from({ length: perPage }, (_, i) => {
      const n = page * perPage + i;
      return { id: 5_000_000 - n, key: randomUUID(), ok: true, at: now - n * 10 };
    });
    return { deliveries, ...(page + 1 < pages ? { next: String(page + 1) } : {}) };
  });
}

describe('the reconciler budget', () => {
  it('examines at most 10,000 deliveries a check, asks the log 1,000 at a time, and says it stopped', async () => {
    const list = provider(15, 1_000);
    const deliveriesSeen = calls(async (input: { keys: string[] }) => input.keys);
    const saved: ReconcileState[] = [];
    const saveReconcileState = calls(async (input: { state: ReconcileState }) => void saved.push(input.state));
    const reportReconcile = calls(async (_report: ReconcileReport) => undefined);
    const input: ReconcileInput = {
      provider: 'github',
      hook: 'default',
      comparesWithLog: true,
      watchesHealth: false,
      scheduleId: 'reconcile-budget',
      lookbackMs: 3_600_000,
      maxAttempts: 3,
    };
    const report = await h.withWorker(
      { listHookDeliveries: list, deliveriesSeen, saveReconcileState, reportReconcile },
      (taskQueue) =>
        h.client.workflow.execute('reconcileHook', {
          taskQueue,
          workflowId: `reconcile-budget-${randomUUID()}`,
          args: [input],
        }) as Promise<ReconcileReport>,
    );
    expect(report).toMatchObject({ examined: 10_000, requested: 0, unseen: 0, truncated: true });
    expect(list.seen).toHaveLength(10);
    expect(deliveriesSeen.seen.map(([asked]) => asked.keys.length)).toEqual(Array(10).fill(1_000));
    expect(saved).toHaveLength(1);
    expect(saved[0]!.after).toBe(5_000_000);
    expect(JSON.stringify(saved[0]).length).toBeLessThan(64 * 1024);
  });
});
