// A real PostgreSQL (Debian's server package) on this machine, for the ledger tests and the
// cluster test bed: initdb into a directory and pg_ctl on a free loopback port, run as the
// `postgres` user when the caller is root (PostgreSQL refuses to run as root). `restart` is a
// real fast shutdown and start of the same data directory; `stop` removes a temporary directory.
import { execFile, execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './temporal-dev-server.js';

export interface Postgres {
  /** `postgresql://gatehouse@127.0.0.1:<port>/postgres` (trust authentication on loopback). */
  readonly url: string;
  readonly port: number;
  readonly user: string;
  /** Creates a database if it does not exist yet and returns its URL. */
  createDatabase(name: string): string;
  /** Runs one SQL statement with psql and returns its unaligned output. */
  query(database: string, sql: string): string;
  /** A fast shutdown and a start of the same data directory and port (the caller's event loop keeps running). */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export interface PostgresOptions {
  /** A directory that survives a restart of the caller; a temporary one (removed on stop) otherwise. */
  dir?: string;
  port?: number;
  /** Connection cap; the Temporal cluster needs more than the default 100 on a busy test bed. */
  maxConnections?: number;
}

const execFileAsync = promisify(execFile);

function binDir(): string {
  const root = '/usr/lib/postgresql';
  const version = existsSync(root) ? readdirSync(root).sort().at(-1) : undefined;
  if (version === undefined) throw new Error('PostgreSQL server binaries not found (apt-get install postgresql)');
  return join(root, version, 'bin');
}

export async function startPostgres(options: PostgresOptions = {}): Promise<Postgres> {
  const bin = binDir();
  const temporary = options.dir === undefined;
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'gatehouse-pg-'));
  mkdirSync(dir, { recursive: true });
  const asRoot = userInfo().uid === 0;
  /** A server command as the user PostgreSQL runs as: [file, args]. */
  const asServerUser = (command: string, args: string[]): [string, string[]] =>
    asRoot ? ['runuser', ['-u', 'postgres', '--', command, ...args]] : [command, args];
  const run = (command: string, args: string[]) =>
    execFileSync(...asServerUser(command, args), { stdio: 'pipe', encoding: 'utf8' });
  if (asRoot)
    chownSync(
      dir,
      Number(execFileSync('id', ['-u', 'postgres']).toString()),
      Number(execFileSync('id', ['-g', 'postgres']).toString()),
    );
  const data = join(dir, 'data');
  const user = 'gatehouse';
  const port = options.port ?? (await freePort());
  if (!existsSync(join(data, 'PG_VERSION')))
    run(join(bin, 'initdb'), ['-D', data, '-U', user, '--auth=trust', '-E', 'UTF8', '--no-sync']);
  const settings = [
    `-p ${port}`,
    `-k ${dir}`,
    '-c listen_addresses=127.0.0.1',
    '-c fsync=off',
    `-c max_connections=${options.maxConnections ?? 100}`,
  ].join(' ');
  const pgCtl = join(bin, 'pg_ctl');
  const startArgs = ['-D', data, '-l', join(dir, 'log'), '-w', '-o', settings, 'start'];
  const stopArgs = ['-D', data, '-m', 'fast', '-w', 'stop'];
  const stop = () => run(pgCtl, stopArgs);
  run(pgCtl, startArgs);
  const psql = (database: string, sql: string) =>
    execFileSync('psql', ['-h', '127.0.0.1', '-p', String(port), '-U', user, '-d', database, '-XAtq', '-c', sql], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    }).trim();
  const url = (database: string) => `postgresql://${user}@127.0.0.1:${port}/${database}`;
  return {
    url: url('postgres'),
    port,
    user,
    createDatabase(name) {
      if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`unsafe database name ${name}`);
      if (psql('postgres', `SELECT 1 FROM pg_database WHERE datname = '${name}'`) !== '1')
        psql('postgres', `CREATE DATABASE ${name}`);
      return url(name);
    },
    query: psql,
    async restart() {
      // Asynchronous, so the caller's load keeps running while the server is down.
      await execFileAsync(...asServerUser(pgCtl, stopArgs));
      await execFileAsync(...asServerUser(pgCtl, startArgs));
    },
    async stop() {
      try {
        stop();
      } finally {
        if (temporary) rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
