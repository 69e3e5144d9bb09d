// GET /v1/webhooks/hooks (admins): each configured hook and how it is doing, as the reconciler
// last saw it. For a hook with a `reconcile` block: its Temporal Schedule (paused or not, the next
// check), the last check's workflow and, once closed, its report (what it examined, what it asked
// the provider to send again and what the provider refused, GitLab's alert status), and the events
// it still holds open (saved in the schedule). Read from Temporal only: the bridge keeps nothing.
import type { FastifyInstance } from 'fastify';
import { ScheduleNotFoundError } from '@temporalio/client';
import Type from 'typebox';
import { mayLookUpDeliveries } from '../../core/access.js';
import type { ReconcileInput } from '../../core/reconcile.js';
import { GatehouseError, ProblemBody } from '../errors.js';
import type { GatehouseConfig } from '../../config/load-config.js';
import { providerNames } from '../../providers/registry.js';
import { describeJob } from '../../temporal/describe-job.js';
import { withOutcome } from '../../temporal/job-outcome.js';

const LastCheck = Type.Object({
  workflowId: Type.String(),
  runId: Type.String(),
  startedAt: Type.String({ format: 'date-time' }),
  status: Type.String(),
  report: Type.Optional(
    Type.Record(Type.String(), Type.Unknown(), {
      description: "the check's report: examined, failed, unseen, requested, refused, abandoned, alertStatus (GitLab)…",
    }),
  ),
  failure: Type.Optional(Type.Object({ message: Type.String(), type: Type.Optional(Type.String()) })),
});

const HookHealth = Type.Object({
  provider: Type.String(),
  hook: Type.String(),
  path: Type.String({ description: 'where the provider sends it' }),
  reconciled: Type.Boolean({ description: 'whether the hook has a reconcile block' }),
  scheduleId: Type.Optional(Type.String()),
  paused: Type.Optional(Type.Boolean()),
  nextCheckAt: Type.Optional(Type.String({ format: 'date-time' })),
  lastCheck: Type.Optional(LastCheck),
  openEvents: Type.Optional(Type.Integer({ description: 'events the reconciler still asks for' })),
  problem: Type.Optional(Type.String({ description: 'why the schedule could not be read' })),
});

export async function hookHealthRoute(app: FastifyInstance, opts: { config: GatehouseConfig }) {
  const { config } = opts;
  const hooks = providerNames.flatMap((provider) =>
    Object.entries(config.webhooks[provider] ?? {}).map(([hook, hookConfig]) => ({
      provider,
      hook,
      path: hook === 'default' ? `/v1/webhooks/${provider}` : `/v1/webhooks/${provider}/${hook}`,
      reconciled: hookConfig.reconcile !== undefined && (provider === 'github' || provider === 'gitlab'),
    })),
  );

  app.get(
    '/v1/webhooks/hooks',
    {
      preValidation: async (request) => {
        if (!mayLookUpDeliveries(request.identity, app.jobs.rules))
          throw new GatehouseError('GATEHOUSE_FORBIDDEN', "Only admins may read the hooks' health");
      },
      schema: {
        tags: ['webhooks'],
        summary: "Admins: each hook and the reconciler's last check of it",
        operationId: 'list-webhook-hooks',
        security: [{ bearerAuth: [] }],
        response: { 200: Type.Object({ hooks: Type.Array(HookHealth) }), '4xx': ProblemBody, '5xx': ProblemBody },
      },
    },
    async () => ({
      hooks: await Promise.all(
        hooks.map((hook) =>
          hook.reconciled
            ? healthOf(app, `${config.webhooks.reconciler.scheduleIdPrefix}-${hook.provider}-${hook.hook}`, hook)
            : hook,
        ),
      ),
    }),
  );
}

async function healthOf<T extends object>(app: FastifyInstance, scheduleId: string, hook: T) {
  let schedule;
  try {
    schedule = await app.temporal.call((client) => client.schedule.getHandle(scheduleId).describe());
  } catch (error) {
    if (!(error instanceof ScheduleNotFoundError)) throw error;
    return {
      ...hook,
      scheduleId,
      problem: 'no schedule yet: the reconciler queue has no worker, or it has not started',
    };
  }
  const saved = (schedule.action.type === 'startWorkflow' ? schedule.action.args?.[0] : undefined) as
    ReconcileInput | undefined;
  const last = schedule.info.recentActions.at(-1);
  const next = schedule.info.nextActionTimes[0];
  return {
    ...hook,
    scheduleId,
    paused: schedule.state.paused,
    ...(next === undefined ? {} : { nextCheckAt: next.toISOString() }),
    ...(saved?.state === undefined ? {} : { openEvents: Object.keys(saved.state.attempts).length }),
    ...(last === undefined ? {} : { lastCheck: await lastCheck(app, last.action.workflow, last.takenAt) }),
  };
}

async function lastCheck(app: FastifyInstance, run: { workflowId: string; firstExecutionRunId: string }, at: Date) {
  const base = { workflowId: run.workflowId, runId: run.firstExecutionRunId, startedAt: at.toISOString() };
  const described = await describeJob(app.temporal, run.workflowId, { runId: run.firstExecutionRunId });
  if (described === undefined) return { ...base, status: 'GONE' };
  const { status, result, failure } = await withOutcome(app.temporal, described.view);
  return {
    ...base,
    status,
    ...(result === undefined ? {} : { report: result as Record<string, unknown> }),
    ...(failure === undefined ? {} : { failure }),
  };
}
