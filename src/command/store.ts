// The command's files in the user's config directory ($XDG_CONFIG_HOME/gatehouse, else
// ~/.config/gatehouse): config.json (profiles: an edge URL, a CA file, the issuer to sign in with)
// and tokens/<profile>.json (what `gatehouse login` got). Both hold what lets someone act as the
// user, so the directory is 0700 and every file 0600, written whole to a temporary file and
// renamed, so a crash never leaves half a file and a file never exists with wider permissions.
import { chmodSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { CliError } from './errors.js';

export interface Profile {
  /** The edge's base URL, e.g. https://gatehouse.example.com */
  url: string;
  /** A PEM file of the CA the edge's certificate chains to, when it is not a public one. */
  ca?: string;
  /** The OIDC issuer `gatehouse login` signs in with, and the client id registered there for the command. */
  issuer?: string;
  clientId?: string;
  /** Extra scopes to ask for at login (openid and offline_access are always asked for). */
  scope?: string;
}

export interface ConfigFile {
  current?: string;
  profiles: Record<string, Profile>;
}

export interface StoredTokens {
  accessToken: string;
  refreshToken?: string;
  /** Epoch seconds; absent when the issuer did not say. */
  expiresAt?: number;
  issuer: string;
  clientId: string;
}

export function configDir(env: NodeJS.ProcessEnv = process.env): string {
  const base =
    env.XDG_CONFIG_HOME !== undefined && env.XDG_CONFIG_HOME !== '' ? env.XDG_CONFIG_HOME : join(homedir(), '.config');
  return join(base, 'gatehouse');
}

const profileName = /^[A-Za-z0-9._-]{1,64}$/;

export function checkProfileName(name: string): string {
  if (!profileName.test(name) || name.startsWith('.'))
    throw new CliError('GATEHOUSE_CLI_USAGE', 'Bad profile name', `"${name}": use letters, digits, ".", "_" and "-"`);
  return name;
}

function readJson<T>(path: string): T | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new CliError('GATEHOUSE_CLI_CONFIG', 'Unreadable config', `${path} is not JSON`);
  }
}

function writePrivate(path: string, value: unknown): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(value, null, 2)}\n`, { mode: 0o600 });
  chmodSync(temporary, 0o600);
  renameSync(temporary, path);
}

export class Store {
  constructor(readonly dir: string) {}

  get configPath(): string {
    return join(this.dir, 'config.json');
  }

  tokensPath(profile: string): string {
    return join(this.dir, 'tokens', `${checkProfileName(profile)}.json`);
  }

  readConfig(): ConfigFile {
    return readJson<ConfigFile>(this.configPath) ?? { profiles: {} };
  }

  writeConfig(config: ConfigFile): void {
    writePrivate(this.configPath, config);
  }

  readTokens(profile: string): StoredTokens | undefined {
    return readJson<StoredTokens>(this.tokensPath(profile));
  }

  writeTokens(profile: string, tokens: StoredTokens): void {
    writePrivate(this.tokensPath(profile), tokens);
  }

  removeTokens(profile: string): boolean {
    const path = this.tokensPath(profile);
    const had = readJson(path) !== undefined;
    rmSync(path, { force: true });
    return had;
  }
}
