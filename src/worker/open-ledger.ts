// Opens the usage ledger for the worker: a real PostgreSQL when `ledger.url` names one, otherwise
// embedded PGlite (files in `ledger.dataDir`, or in memory). The schema is applied at start-up.
// Embedded PGlite files belong to one process: a lock file next to them makes a second worker
// fail at start-up with a clear message instead of splitting (or corrupting) the ledger.
// On PostgreSQL, a pooled connection that breaks (the server restarted or dropped it) is reported
// to `onConnectionLost` instead of ending the process; the pool drops it, and the next write opens
// a new one (a write that was under way fails, and its activity is retried).
// Memory: PGlite is PostgreSQL compiled to WebAssembly, in the worker's own process. Its shared
// memory is resident from the start (the WebAssembly runtime zero-fills it) and never given back,
// and PostgreSQL sizes it for 128 MB of buffers and 127 backends. PGlite runs one backend, for a
// ledger of a few rows per job: 1 MB of buffers and 7 backend slots leave 4 MB of shared memory
// instead of 24 (about 9 MB of WebAssembly memory at rest instead of 29). work_mem bounds what a
// usage query leaves behind; a larger sort spills to a file in dataDir. A new data directory is
// initialised (initdb) by a short-lived child process: initdb in the worker's process left it
// about 250 MB larger for good.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
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
    const { default: pg } = await import('pg');
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
  const { PGlite } = await import('@electric-sql/pglite');
  if (config.ledger.dataDir === 'memory') {
    const lite = new PGlite(pgliteOptions);
    await lite.exec(ledgerSchema);
    return { db: lite as unknown as SqlClient, kind: 'pglite', close: () => lite.close() };
  }
  const dataDir = configPath(config, config.ledger.dataDir);
  const release = lockDataDir(config, dataDir);
  try {
    if (!existsSync(join(dataDir, 'PG_VERSION'))) await initDataDir(dataDir);
    const lite = new PGlite(dataDir, pgliteOptions);
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

// postgresqlconf replaces the whole postgresql.conf on every open, so existing ledgers take these
// settings too.
const pgliteOptions = {
  postgresqlconf: [
    'shared_buffers=1MB', // 128 buffers; PostgreSQL's floor (128kB) risks "no unpinned buffers"
    'max_connections=5', // with the next four, 7 backend slots instead of 127
    'autovacuum_worker_slots=1',
    'autovacuum_max_workers=1',
    'max_wal_senders=0',
    'max_replication_slots=0',
    'work_mem=1MB',
    'timezone=UTC', // what initdb wrote, which a replaced postgresql.conf would otherwise lose
  ],
};

/** Runs PGlite's initdb for `dataDir` in a child process, which exits when it is done. */
async function initDataDir(dataDir: string): Promise<void> {
  const pglite = createRequire(import.meta.url).resolve('@electric-sql/pglite');
  const script = `require(${JSON.stringify(pglite)}).PGlite.create(process.argv[1]).then((db) => db.close())`;
  // No environment: the worker's secrets are not the child's business. WebAssembly on the baseline
  // compiler only (as in the worker, src/config/worker-process.ts): initdb takes about 60% of the time.
  const child = spawn(process.execPath, ['--liftoff-only', '-e', script, dataDir], {
    env: {},
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-2_000)));
  const code = await new Promise<number | null>((done, failed) => {
    child.once('error', failed);
    child.once('exit', done);
  });
  if (code !== 0)
    throw new Error(`initialising the embedded ledger in ${dataDir} failed (exit ${code}): ${stderr.trim()}`);
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
