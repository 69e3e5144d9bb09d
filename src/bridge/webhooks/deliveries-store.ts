// The delivery log in the bridge: the store (PostgreSQL shared by every replica when
// webhooks.deliveryLog.url is set, else this process's memory), the recorder the webhook routes
// write through, and retention. The admins' API over it is delivery-routes.ts.
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { Counter } from 'prom-client';
import type { DeliveryLog } from '../../core/deliveries.js';
import { durationMs } from '../../config/duration.js';
import type { GatehouseConfig } from '../../config/load-config.js';
import { openDeliveryLog } from '../../deliveries/open-delivery-log.js';
import { createDeliveryRecorder, type DeliveryRecorder } from './delivery-recorder.js';

declare module 'fastify' {
  interface FastifyInstance {
    deliveries: { log: DeliveryLog; recorder: DeliveryRecorder };
  }
}

/** How often each replica prunes the log (pruning is idempotent, so replicas may overlap). */
const pruneEveryMs = 10 * 60_000;
const firstPruneMs = 60_000;

async function deliveriesPlugin(app: FastifyInstance, opts: { config: GatehouseConfig }) {
  const { config } = opts;
  const settings = config.webhooks.deliveryLog;
  // With PostgreSQL the log connects in the background: a bridge starts while the database is down.
  // The log reports rows it refused; the recorder, made next, counts them.
  const late: { recorder?: DeliveryRecorder } = {};
  const connectionErrors = new Counter({
    name: 'gatehouse_postgres_connection_errors_total',
    help: 'PostgreSQL connections that broke (server restart, dropped connection); each is replaced on next use',
    labelNames: ['store'],
    registers: [app.metrics.registry],
  });
  const log = await openDeliveryLog({
    maxEntries: settings.maxEntries,
    maxSamples: settings.maxSamples,
    ...(config.deliveryLogUrl === undefined ? {} : { url: config.deliveryLogUrl }),
    onError: (error) => app.log.warn({ error: error.message }, 'the delivery log cannot reach its database yet'),
    onConnectionLost: (error) => {
      connectionErrors.inc({ store: 'delivery_log' });
      app.log.warn(
        { store: 'delivery_log', error: error.message },
        'a PostgreSQL connection broke; it is dropped and a new one is opened on next use',
      );
    },
    onSkipped: (count, reason) => {
      late.recorder?.lost('row_refused', count);
      app.log.warn({ records: count, reason }, 'the delivery log refused some records; they are lost');
    },
  });
  const recorder = (late.recorder = createDeliveryRecorder(log, {
    samplesPerMinute: settings.rejectedSamplesPerMinute,
    registry: app.metrics.registry,
    logger: app.log,
  }));
  app.decorate('deliveries', { log, recorder });
  const prune = () =>
    log
      .prune(new Date(Date.now() - durationMs(settings.retention)), {
        records: settings.maxEntries,
        samples: settings.maxSamples,
      })
      .catch((error: unknown) => app.log.warn({ error: (error as Error).message }, 'pruning the delivery log failed'));
  let pruner: NodeJS.Timeout = setTimeout(function again() {
    void prune();
    pruner = setTimeout(again, pruneEveryMs);
    pruner.unref();
  }, firstPruneMs);
  pruner.unref();
  app.addHook('onClose', async () => {
    clearTimeout(pruner);
    await recorder.close();
  });
}

export const deliveriesStore = fp(deliveriesPlugin, {
  name: 'gatehouse-deliveries',
  dependencies: ['gatehouse-metrics'],
});
