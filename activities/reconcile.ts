// The reconciler's activities: each is one provider API call (or one delivery-log question), so a
// workflow decides and waits (rate limits included) durably between them. Each hook's API client
// comes from its provider's reconciler (src/providers/reconciler.ts). What the reconciler does is
// counted in worker metrics (the SDK's meter: Prometheus when the worker exports it) and, when the
// delivery log is shared (PostgreSQL), written there as `redelivery_requested` records.
import { randomBytes } from 'node:crypto';
import { Context } from '@temporalio/activity';
import { deliveryRecord, newDeliveryRecordId, type DeliveryLog } from '../src/core/deliveries.js';
import { fail } from '../src/core/failures.js';
import type { ReconcileState } from '../src/core/reconcile.js';
import type {
  DeliveryListing,
  HookApiClient,
  HookHealth,
  RateLimited,
  RedeliveryAnswer,
} from '../src/providers/reconciler.js';

export interface ReconcileDeps {
  /** By `provider/hook`. */
  clients: ReadonlyMap<string, HookApiClient>;
  /** The shared delivery log; absent when the log is each bridge's own memory. */
  log?: DeliveryLog;
  /** Keeps the reconciler's state in its schedule's action, for the next check. */
  saveState(scheduleId: string, state: ReconcileState): Promise<void>;
}

/** One hook of one provider: what every activity is asked about. */
interface HookRef {
  provider: string;
  hook: string;
}

export interface ReconcileReport {
  provider: string;
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
  /** The hook's health, where the provider disables failing hooks. */
  alertStatus?: string;
}

export function createReconcileActivities(deps: ReconcileDeps) {
  const clientOf = ({ provider, hook }: HookRef): HookApiClient => {
    const client = deps.clients.get(`${provider}/${hook}`);
    if (client === undefined)
      throw fail('ReconcilerRejected', `no ${provider} reconciler is configured for hook "${hook}"`);
    return client;
  };
  // Best effort: the ask was made; a log that is down must not make the activity retry (and ask again).
  const recordAsk = async ({ provider, hook }: HookRef, deliveryId: string, detail: string) => {
    if (deps.log === undefined) return;
    const record = deliveryRecord({
      id: newDeliveryRecordId(new Date(), randomBytes(6).toString('hex')),
      receivedAt: new Date().toISOString(),
      provider,
      hook,
      deliveryId,
      outcome: 'redelivery_requested',
      detail,
      origin: 'reconciler',
    });
    try {
      await deps.log.append([record]);
    } catch (error) {
      Context.current().log.warn("the delivery log did not take the reconciler's record", {
        error: (error as Error).message,
      });
    }
  };
  const meter = () => Context.current().metricMeter;

  return {
    async readHookHealth(input: HookRef): Promise<HookHealth> {
      const client = clientOf(input);
      if (client.readHealth === undefined)
        throw fail('ReconcilerRejected', `the ${input.provider} reconciler does not read a hook's health`);
      const health = await client.readHealth();
      meter()
        .createGauge(
          'gatehouse_webhook_hook_alert',
          'int',
          'state',
          "A provider hook's health: 0 executable, 1 temporarily disabled, 2 disabled",
        )
        .set(health.alertLevel, { provider: input.provider, hook: input.hook });
      return health;
    },

    async listHookDeliveries(
      input: HookRef & { cursor?: string; perPage?: number },
    ): Promise<DeliveryListing | RateLimited> {
      return clientOf(input).list(input.cursor, input.perPage);
    },

    async redeliverHookDelivery(
      input: HookRef & { id: number; key: string; reason: string },
    ): Promise<RedeliveryAnswer | RateLimited> {
      const answer = await clientOf(input).redeliver({ id: input.id, key: input.key });
      if ('answer' in answer && answer.answer === 'asked') {
        meter()
          .createCounter('gatehouse_reconciler_redeliveries', 'requests', 'Redeliveries the reconciler asked for')
          .add(1, { provider: input.provider, hook: input.hook, reason: input.reason });
        await recordAsk(input, input.key, `${answer.asked} (${input.reason})`);
      }
      return answer;
    },

    /** Of these events, the ones the shared delivery log has seen; null when there is no shared log. */
    async deliveriesSeen(input: HookRef & { keys: string[] }): Promise<string[] | null> {
      if (deps.log === undefined) return null;
      return [...(await deps.log.seen(input.provider, input.hook, input.keys))];
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
