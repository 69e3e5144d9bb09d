// What the worker does when a PostgreSQL connection it pools breaks (the ledger's, or the
// reconciler's delivery log's): a warning in the worker's log and one more on the counter
// `gatehouse_postgres_connection_errors_total{store}`, served with the SDK's metrics when
// GATEHOUSE_WORKER_METRICS_LISTEN is set. Both go through the worker's Temporal Runtime, the
// same logger and metric meter the activities use. The message is a short description of the
// failure (src/deliveries/postgres-errors.ts), never the connection string.
import { Runtime } from '@temporalio/worker';

export type PostgresStore = 'ledger' | 'delivery_log';

export function reportConnectionLoss(store: PostgresStore): (error: Error) => void {
  const runtime = Runtime.instance();
  const counter = runtime.metricMeter.createCounter(
    'gatehouse_postgres_connection_errors',
    'errors',
    'PostgreSQL connections that broke (server restart, dropped connection); each is replaced on next use',
  );
  return (error) => {
    counter.add(1, { store });
    runtime.logger.warn('a PostgreSQL connection broke; it is dropped and a new one is opened on next use', {
      store,
      error: error.message,
    });
  };
}
