// Opens the usage ledger for the worker: a real PostgreSQL when `ledger.url` names one, otherwise
// embedded PGlite (files in `ledger.dataDir`, or in memory). The schema is applied at start-up.
// Embedded PGlite files belong to one process: a lock file next to them makes a second worker
// fail at start-up with a clear message instead of splitting (or corrupting) the ledger.
// On PostgreSQL, a pooled connection that breaks (the server restarted or dropped it) is reported
// to `onConnectionLost` instead of ending the process; the pool drops it, and the next write opens
// a new one (a write that was under way fails, and its activity is retried).
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { ledgerSchema, type SqlClient } from '../../activities/billing.js';
import { ConfigError, configPath, type GatehouseConfig } from '../config/load-config.js';
import { reportLostConnections } from '../deliveries/postgres-errors.js';

export interface Ledger {
  db: SqlClient;
  kind: 'postgres' | 'pglite';
  close(): Promise<void>;
}

export interface LedgerOptions {
  /** PostgreSQL only: a connection that broke, as a short description (never the connection string). */
  onConnectionLost?: (error: Error) => void;
}

export async function openLedger(config: GatehouseConfig, options: LedgerOptions = {}): Promise<Ledger> {
  if (config.ledgerUrl !== undefined) {
    const pool = new pg.Pool({
      connectionString: config.ledgerUrl.reveal(),
      max: 5,
      application_name: 'gatehouse-ledger',
    });
    reportLostConnections(pool, options.onConnectionLost);
    try {
      await pool.query(ledgerSchema);
    } catch (error) {
      await pool.end();
      throw error;
    }
    return { db: pool as unknown as SqlClient, kind: 'postgres', close: () => pool.end() };
  }
  if (config.ledger.dataDir === 'memory') {
    const lite = new PGlite();
    await lite.exec(ledgerSchema);
    return { db: lite as unknown as SqlClient, kind: 'pglite', close: () => lite.close() };
  }
  const dataDir = configPath(config, config.ledger.dataDir);
  const release = lockDataDir(config, dataDir);
  try {
    const lite = new PGlite(dataDir);
    await lite.exec(ledgerSchema);
    return {
      db: lite as unknown as SqlClient,
      kind: 'pglite',
      async close() {
        await lite.close();
        release();
      },
    };
  } catch (error) {
    release();
    throw error;
  }
}

/** `<dataDir>.lock` holds the owning pid; a lock whose process is gone is taken over. */
function lockDataDir(config: GatehouseConfig, dataDir: string): () => void {
  const lock = `${dataDir}.lock`;
  mkdirSync(dirname(lock), { recursive: true });
  for (let attempt = 0; attempt < 2; attempt += 1) {
    try {
      writeFileSync(lock, String(process.pid), { flag: 'wx' });
      return () => rmSync(lock, { force: true });
    } catch {
      const owner = Number(readFileSync(lock, 'utf8'));
      if (isAlive(owner)) {
        throw new ConfigError(config.source, [
          `/ledger/dataDir: the embedded ledger ${dataDir} is in use by process ${owner}; it belongs to one worker process (set ledger.url to share a PostgreSQL ledger)`,
        ]);
      }
      rmSync(lock, { force: true });
    }
  }
  throw new ConfigError(config.source, [`/ledger/dataDir: cannot lock ${lock}`]);
}

function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
