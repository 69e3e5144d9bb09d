// The JWKS sync (docs/edge.md): fetch the issuer's JWKS, write the key files HAProxy needs, check
// the whole config with `haproxy -c`, and reload HAProxy through its master socket, but only when
// the key set changed. A failed check restores the previous files and reloads nothing, so a bad
// JWKS can never take the edge down. Run once (`gatehouse sync-jwks`) or on an interval.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { JWK } from 'jose';
import { edgeKeysFrom, keyFileName, keySetDigest, mergeKeys, renderKeyFiles, type EdgeKey } from './render-keys.js';

const run = promisify(execFile);

export interface SyncOptions {
  jwksUrl: string;
  /** Gatehouse's session keys (the bridge's /.well-known/gatehouse/jwks.json), where sign-in is on. */
  sessionJwksUrl?: string;
  keysDir: string;
  /** Config files checked together with the generated keys.cfg (haproxy.cfg first). */
  configFiles: string[];
  haproxy?: string;
  /** The master CLI socket (haproxy -W -S <socket>); no reload when absent. */
  masterSocket?: string;
  /** How long a key the issuer stopped publishing stays installed (the longest token lifetime). */
  retainSeconds: number;
  /** Environment for `haproxy -c` (the config reads its ports and paths from it). */
  env?: NodeJS.ProcessEnv;
  now?: () => number;
}

export interface SyncResult {
  changed: boolean;
  reloaded: boolean;
  /** Why a needed reload did not happen (HAProxy not running yet, say); the next sync retries. */
  reloadError?: string;
  kids: string[];
  skipped: string[];
}

/** Thrown when the rendered config does not pass `haproxy -c`; the previous files were restored. */
export class EdgeConfigError extends Error {
  override readonly name = 'EdgeConfigError';
}

export async function syncJwks(options: SyncOptions): Promise<SyncResult> {
  const now = Math.floor((options.now ?? Date.now)() / 1000);
  const { keys: published, skipped } = await edgeKeysFrom(await fetchJwks(options.jwksUrl), now);
  if (options.sessionJwksUrl !== undefined) {
    const session = await edgeKeysFrom(await fetchJwks(options.sessionJwksUrl), now, 'session');
    published.push(...session.keys);
    skipped.push(...session.skipped);
  }
  mkdirSync(options.keysDir, { recursive: true });
  const previous = readInstalled(options.keysDir);
  const keys = mergeKeys(published, previous, now, options.retainSeconds);
  const pending = join(options.keysDir, '.reload-pending');
  const changed =
    keySetDigest(keys) !== keySetDigest(previous) ||
    !existsSync(join(options.keysDir, 'keys.cfg')) ||
    existsSync(pending);
  // lastSeen moves on every sync; write it even when nothing else changed, but reload only on change.
  const files = renderKeyFiles(keys, options.keysDir);
  const backups = writeFiles(options.keysDir, files);
  if (changed) {
    try {
      await run(options.haproxy ?? 'haproxy', ['-c', '-q', ...options.configFiles.flatMap((f) => ['-f', f])], {
        env: options.env ?? process.env,
      });
    } catch (error) {
      restore(options.keysDir, backups);
      const stderr = (error as { stderr?: string }).stderr ?? String(error);
      throw new EdgeConfigError(`haproxy -c refused the new key set; previous keys kept:\n${stderr}`);
    }
  }
  if (!changed || options.masterSocket === undefined)
    return { changed, reloaded: false, kids: keys.map((k) => k.kid), skipped };
  try {
    await masterCommand(options.masterSocket, 'reload');
    rmSync(pending, { force: true });
    return { changed, reloaded: true, kids: keys.map((k) => k.kid), skipped };
  } catch (error) {
    // The files are in place; a HAProxy that starts later loads them, and a running one is
    // reloaded by the next sync: the marker keeps the set "changed" until a reload succeeds.
    writeFileSync(pending, new Date().toISOString());
    return { changed, reloaded: false, reloadError: String(error), kids: keys.map((k) => k.kid), skipped };
  }
}

async function fetchJwks(url: string): Promise<{ keys?: JWK[] }> {
  const response = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  if (!response.ok) throw new Error(`JWKS ${url} answered ${response.status}`);
  return (await response.json()) as { keys?: JWK[] };
}

function readInstalled(dir: string): EdgeKey[] {
  const index = join(dir, 'keys.json');
  if (!existsSync(index)) return [];
  const entries = JSON.parse(readFileSync(index, 'utf8')) as Array<Omit<EdgeKey, 'pem'>>;
  return entries.flatMap((entry) => {
    const file = join(dir, keyFileName(entry));
    return existsSync(file) ? [{ ...entry, pem: readFileSync(file, 'utf8') }] : [];
  });
}

/** Writes each file atomically (temp + rename); returns what it replaced, for a restore. */
function writeFiles(dir: string, files: Map<string, string>): Map<string, string | undefined> {
  const backups = new Map<string, string | undefined>();
  for (const [name, content] of files) {
    const path = join(dir, name);
    backups.set(name, existsSync(path) ? readFileSync(path, 'utf8') : undefined);
    writeFileSync(`${path}.tmp`, content, { mode: 0o644 });
    renameSync(`${path}.tmp`, path);
  }
  return backups;
}

/** Puts back what was replaced and removes what was new, so a refused key set leaves no trace. */
function restore(dir: string, backups: Map<string, string | undefined>): void {
  for (const [name, content] of backups) {
    if (content !== undefined) writeFileSync(join(dir, name), content);
    else rmSync(join(dir, name), { force: true });
  }
}

/** Sends one command to HAProxy's master CLI and returns its answer. */
export function masterCommand(socket: string, command: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const connection = createConnection(socket);
    let answer = '';
    connection.setTimeout(10_000, () => connection.destroy(new Error(`master CLI did not answer "${command}"`)));
    connection.on('connect', () => connection.end(`${command}\n`));
    connection.on('data', (data: Buffer) => {
      answer += data.toString();
    });
    connection.on('error', reject);
    connection.on('close', () => resolve(answer));
  });
}
