// The reconciler's activities: each is one provider API call (or one delivery-log question), so a
// workflow decides and waits (rate limits included) durably between them. What the reconciler
// does is counted in worker metrics (the SDK's meter: Prometheus when the worker exports it) and,
// when the delivery log is shared (PostgreSQL), written there as `redelivery_requested` records.
import { randomBytes } from 'node:crypto';
import { Context } from '@temporalio/activity';
import { newDeliveryRecordId, type DeliveryLog, type DeliveryRecord } from '../src/core/deliveries.js';
import { fail } from '../src/core/failures.js';
import type { ReconcileState } from '../src/core/reconcile.js';
import type { DeliveryPage, HookDeliveriesClient, RateLimited } from '../src/providers/github/hook-deliveries.js';
import type { GitLabHookClient, GitLabHookEvent, GitLabHookHealth } from '../src/providers/gitlab/hook-events.js';

export interface ReconcileDeps {
  /** By hook name. */
  github: Record<string, HookDeliveriesClient>;
  gitlab: Record<string, GitLabHookClient>;
  /** The shared delivery log; absent when the log is each bridge's own memory. */
  log?: DeliveryLog;
  /** Keeps the reconciler's state in its schedule's action, for the next check. */
  saveState(scheduleId: string, state: ReconcileState): Promise<void>;
}

export interface ReconcileReport {
  provider: 'github' | 'gitlab';
  hook: string;
  examined: number;
  failed: number;
  unseen: number;
  /** Asks the provider accepted. */
  requested: number;
  /** Asks the provider refused for now (asked again at the next check). */
  refused: number;
  abandoned: number;
  rateLimitWaits: number;
  /** The check ran out of its budget before it read back far enough; the rest was not examined. */
  truncated?: boolean;
  /** Deliveries refused as listed: an implausible id or time, or an id out of order. */
  refusedIds?: number;
  /** Deliveries sent after the newest one examined with an id at or below it (`after` was reset). */
  idsWentBack?: number;
  /** Events dropped from the saved state to keep it bounded. */
  forgotten?: number;
  alertStatus?: string;
}

const alertLevels: Record<string, number> = { executable: 0, temporarily_disabled: 1, disabled: 2 };

export function createReconcileActivities(deps: ReconcileDeps) {
  const github = (hook: string) => clientOf(deps.github, hook, 'GitHub');
  const gitlab = (hook: string) => clientOf(deps.gitlab, hook, 'GitLab');
  // Best effort: the ask was made; a log that is down must not make the activity retry (and ask again).
  const recordAsk = async (provider: string, hook: string, deliveryId: string, detail: string) => {
    if (deps.log === undefined) return;
    try {
      await deps.log.append([askRecord(provider, hook, deliveryId, detail)]);
    } catch (error) {
      Context.current().log.warn("the delivery log did not take the reconciler's record", {
        error: (error as Error).message,
      });
    }
  };
  const askRecord = (provider: string, hook: string, deliveryId: string, detail: string): DeliveryRecord => {
    const record: DeliveryRecord = {
      id: newDeliveryRecordId(new Date(), randomBytes(6).toString('hex')),
      receivedAt: new Date().toISOString(),
      provider,
      hook,
      deliveryId,
      event: null,
      repository: null,
      outcome: 'redelivery_requested',
      reason: null,
      detail,
      status: null,
      jobId: null,
      runId: null,
      route: null,
      bodySha256: null,
      bodyBytes: null,
      origin: 'reconciler',
      replayOf: null,
      requestedBy: null,
      sample: null,
      gitEvent: null,
    };
    return record;
  };
  const meter = () => Context.current().metricMeter;

  return {
    async listGitHubDeliveries(input: {
      hook: string;
      cursor?: string;
      perPage?: number;
    }): Promise<DeliveryPage | RateLimited> {
      return github(input.hook).listPage(input.cursor, input.perPage);
    },

    async redeliverGitHubDelivery(input: {
      hook: string;
      deliveryId: number;
      guid: string;
      reason: string;
    }): Promise<{ accepted: boolean; refused?: true; gone?: true; pauseUntil?: number } | RateLimited> {
      const answer = await github(input.hook).redeliver(input.deliveryId);
      if ('accepted' in answer && answer.accepted) {
        meter()
          .createCounter('gatehouse_reconciler_redeliveries', 'requests', 'Redeliveries the reconciler asked for')
          .add(1, { provider: 'github', hook: input.hook, reason: input.reason });
        await recordAsk('github', input.hook, input.guid, `GitHub delivery ${input.deliveryId} (${input.reason})`);
      }
      return answer;
    },

    /** Of these events, the ones the shared delivery log has seen; null when there is no shared log. */
    async deliveriesSeen(input: { provider: string; hook: string; keys: string[] }): Promise<string[] | null> {
      if (deps.log === undefined) return null;
      return [...(await deps.log.seen(input.provider, input.hook, input.keys))];
    },

    async readGitLabHook(input: { hook: string }): Promise<GitLabHookHealth> {
      const health = await gitlab(input.hook).readHook();
      meter()
        .createGauge(
          'gatehouse_webhook_hook_alert',
          'int',
          'state',
          "A provider hook's health: 0 executable, 1 temporarily disabled, 2 disabled",
        )
        .set(alertLevels[health.alertStatus] ?? 2, { provider: 'gitlab', hook: input.hook });
      return health;
    },

    async listGitLabEvents(input: {
      hook: string;
      page: number;
      perPage?: number;
    }): Promise<{ events: GitLabHookEvent[]; nextPage?: number } | RateLimited> {
      return gitlab(input.hook).listEvents(input.page, input.perPage);
    },

    async resendGitLabEvent(input: {
      hook: string;
      eventId: number;
      key: string;
      reason: string;
    }): Promise<{ responseStatus: string; refused?: true } | RateLimited> {
      const answer = await gitlab(input.hook).resend(input.eventId);
      if ('responseStatus' in answer && answer.refused !== true) {
        meter()
          .createCounter('gatehouse_reconciler_redeliveries', 'requests', 'Redeliveries the reconciler asked for')
          .add(1, { provider: 'gitlab', hook: input.hook, reason: input.reason });
        await recordAsk(
          'gitlab',
          input.hook,
          input.key,
          `GitLab event ${input.eventId} (${input.reason}), answered ${answer.responseStatus}`,
        );
      }
      return answer;
    },

    async saveReconcileState(input: { scheduleId: string; state: ReconcileState }): Promise<void> {
      await deps.saveState(input.scheduleId, input.state);
    },

    async reportReconcile(report: ReconcileReport): Promise<void> {
      const tags = { provider: report.provider, hook: report.hook };
      const count = (name: string, value: number, description: string) =>
        meter().createCounter(name, 'deliveries', description).add(value, tags);
      count('gatehouse_reconciler_examined', report.examined, 'Provider deliveries the reconciler examined');
      count('gatehouse_reconciler_failed', report.failed, 'Deliveries the provider reports as failed');
      count('gatehouse_reconciler_unseen', report.unseen, 'Deliveries the provider reports sent that never arrived');
      count('gatehouse_reconciler_abandoned', report.abandoned, 'Events given up after maxAttempts redeliveries');
      count(
        'gatehouse_reconciler_refused_ids',
        (report.refusedIds ?? 0) + (report.idsWentBack ?? 0),
        'Deliveries whose ids the reconciler refused (implausible, out of order) or that went backwards',
      );
      count('gatehouse_reconciler_forgotten', report.forgotten ?? 0, 'Open events dropped to keep the state bounded');
      if (report.truncated === true)
        meter()
          .createCounter(
            'gatehouse_reconciler_truncated',
            'checks',
            'Checks that ran out of their budget (pages or deliveries) before reading back far enough',
          )
          .add(1, tags);
    },
  };
}

function clientOf<T>(clients: Record<string, T>, hook: string, provider: string): T {
  const client = Object.hasOwn(clients, hook) ? clients[hook] : undefined;
  if (client === undefined)
    throw fail('ReconcilerRejected', `no ${provider} reconciler is configured for hook "${hook}"`);
  return client;
}
