// Opens the usage ledger for the worker: a real PostgreSQL when `ledger.url` names one, otherwise
// embedded PGlite (files in `ledger.dataDir`, or in memory). The schema is applied at start-up.
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { ledgerSchema, type SqlClient } from '../../activities/billing.js';
import { configPath, type GatehouseConfig } from '../config/load-config.js';

export interface Ledger {
  db: SqlClient;
  kind: 'postgres' | 'pglite';
  close(): Promise<void>;
}

export async function openLedger(config: GatehouseConfig): Promise<Ledger> {
  if (config.ledgerUrl !== undefined) {
    const pool = new pg.Pool({ connectionString: config.ledgerUrl.reveal(), max: 5 });
    await pool.query(ledgerSchema);
    return { db: pool as unknown as SqlClient, kind: 'postgres', close: () => pool.end() };
  }
  const dataDir = config.ledger.dataDir === 'memory' ? undefined : configPath(config, config.ledger.dataDir);
  const lite = new PGlite(dataDir);
  await lite.exec(ledgerSchema);
  return { db: lite as unknown as SqlClient, kind: 'pglite', close: () => lite.close() };
}
