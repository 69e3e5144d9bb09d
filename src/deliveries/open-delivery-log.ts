// Opens the delivery log for the bridge: PostgreSQL when a connection string is configured (one
// log shared by every replica), otherwise the in-memory log (one bridge process; records are lost
// on restart). It takes only the resolved URL, not the whole config, so it stays easy to call.
import type { DeliveryLog } from '../core/deliveries.js';
import type { Secret } from '../core/secret.js';
import { createMemoryDeliveryLog } from './memory-log.js';
import { openPostgresDeliveryLog } from './postgres-log.js';

export async function openDeliveryLog(config: { url?: Secret }): Promise<DeliveryLog> {
  return config.url === undefined ? createMemoryDeliveryLog() : openPostgresDeliveryLog(config.url.reveal());
}
