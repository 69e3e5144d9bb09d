// One Temporal Schedule per hook with a `reconcile` block, kept in step with the config by the
// worker that polls the reconciler's queue, at its start. The schedule's action carries the
// check's settings and the reconciler's state (the newest delivery examined, the asks per event):
// each check saves its state there for the next, so it survives workers and is visible with
// `temporal schedule describe`. An update from a new config keeps the saved state.
import { ScheduleAlreadyRunning, ScheduleOverlapPolicy } from '@temporalio/client';
import type { ReconcileInput, ReconcileState } from '../core/reconcile.js';
import type { WorkflowType } from '../core/workflow-catalog.js';
import { durationMs } from '../config/duration.js';
import type { GatehouseConfig } from '../config/load-config.js';
import { providerNames, reconcilerOf } from '../providers/registry.js';
import type { TemporalGateway } from '../temporal/gateway.js';

export interface ReconcileSchedule {
  scheduleId: string;
  everyMs: number;
  input: Omit<ReconcileInput, 'state'>;
}

/** The workflow every schedule starts: one check of one hook, for any provider (workflows/reconcile-hook.ts). */
export const reconcileWorkflowType: WorkflowType = 'reconcileHook';

export function reconcileSchedules(config: GatehouseConfig): ReconcileSchedule[] {
  const schedules: ReconcileSchedule[] = [];
  for (const provider of providerNames) {
    const reconciler = reconcilerOf(provider);
    for (const [hook, hookConfig] of Object.entries(config.webhooks[provider] ?? {})) {
      const settings = hookConfig.reconcile;
      if (settings === undefined || reconciler === undefined) continue;
      const scheduleId = `${config.webhooks.reconciler.scheduleIdPrefix}-${provider}-${hook}`;
      schedules.push({
        scheduleId,
        everyMs: durationMs(settings.every),
        input: {
          provider,
          hook,
          scheduleId,
          lookbackMs: durationMs(settings.lookback),
          maxAttempts: settings.maxAttempts,
          comparesWithLog: reconciler.comparesWithLog,
          watchesHealth: reconciler.watchesHealth,
          ...('resend' in settings ? { resend: settings.resend } : {}),
        },
      });
    }
  }
  return schedules;
}

/** Creates the missing schedules and brings the others up to date; returns their ids. */
export async function upsertReconcileSchedules(temporal: TemporalGateway, config: GatehouseConfig): Promise<string[]> {
  const taskQueue = config.webhooks.reconciler.taskQueue;
  const ids: string[] = [];
  for (const schedule of reconcileSchedules(config)) {
    const action = {
      type: 'startWorkflow' as const,
      workflowType: reconcileWorkflowType,
      workflowId: schedule.scheduleId,
      taskQueue,
      // A check may wait out a rate-limit window (an hour at GitHub); one that runs far longer is
      // stuck, and the next starts from the saved state.
      workflowExecutionTimeout: Math.max(schedule.everyMs * 3, 3 * 3_600_000),
    };
    try {
      await temporal.call((client) =>
        client.schedule.create({
          scheduleId: schedule.scheduleId,
          spec: { intervals: [{ every: schedule.everyMs }] },
          action: { ...action, args: [schedule.input] },
          policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: schedule.everyMs },
        }),
      );
    } catch (error) {
      if (!(error instanceof ScheduleAlreadyRunning)) throw error;
      await temporal.call((client) =>
        client.schedule.getHandle(schedule.scheduleId).update((previous) => {
          const saved = (previous.action.type === 'startWorkflow' ? previous.action.args?.[0] : undefined) as
            ReconcileInput | undefined;
          return {
            ...previous,
            spec: { intervals: [{ every: schedule.everyMs }] },
            action: {
              ...action,
              args: [{ ...schedule.input, ...(saved?.state === undefined ? {} : { state: saved.state }) }],
            },
            policies: { ...previous.policies, overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: schedule.everyMs },
          };
        }),
      );
    }
    ids.push(schedule.scheduleId);
  }
  return ids;
}

/** Writes a check's state into its schedule's action, for the next check. */
export async function saveReconcileState(
  temporal: TemporalGateway,
  scheduleId: string,
  state: ReconcileState,
): Promise<void> {
  await temporal.call((client) =>
    client.schedule.getHandle(scheduleId).update((previous) => {
      if (previous.action.type !== 'startWorkflow') throw new Error(`schedule ${scheduleId} does not start a workflow`);
      const input = previous.action.args?.[0] as ReconcileInput;
      return { ...previous, action: { ...previous.action, args: [{ ...input, state }] } };
    }),
  );
}
