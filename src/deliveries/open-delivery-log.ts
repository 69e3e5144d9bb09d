// Opens the delivery log for the bridge: PostgreSQL when a connection string is configured (one
// log shared by every replica), otherwise the in-memory log (one bridge process; records are lost
// on restart). It takes only the resolved settings, not the whole config, so it stays easy to call.
//
// It never waits for the database: the PostgreSQL log connects in the background and, until it
// can, answers every call with DeliveryLogUnavailable (see postgres-log.ts), so a bridge starts
// during a database outage. It still returns a promise (already settled) so callers written for
// an opening that waited need no change. The PostgreSQL driver is loaded only when it is used: a
// bridge on the in-memory log does not carry it.
import type { DeliveryLog } from '../core/deliveries.js';
import type { Secret } from '../core/secret.js';
import { createMemoryDeliveryLog } from './memory-log.js';

export interface DeliveryLogSettings {
  /** The PostgreSQL connection string; without it, the in-memory log. */
  url?: Secret;
  /** In-memory log only: the most records held; an append beyond it drops the oldest. */
  maxEntries: number;
  /** In-memory log only: the most samples held, apart from the records. */
  maxSamples: number;
  /** PostgreSQL only: failed background connection attempts (short messages, no URL). */
  onError?: (error: Error) => void;
  /** PostgreSQL only: a connection that broke; the pool opens another on next use (short messages, no URL). */
  onConnectionLost?: (error: Error) => void;
  /** PostgreSQL only: how many records of an append the database refused for their data, and why. */
  onSkipped?: (count: number, reason: string) => void;
}

export async function openDeliveryLog(config: DeliveryLogSettings): Promise<DeliveryLog> {
  if (config.url === undefined)
    return createMemoryDeliveryLog({ maxEntries: config.maxEntries, maxSamples: config.maxSamples });
  const { createPostgresDeliveryLog } = await import('./postgres-log.js');
  return createPostgresDeliveryLog(config.url.reveal(), {
    onError: config.onError,
    onConnectionLost: config.onConnectionLost,
    onSkipped: config.onSkipped,
  });
}
