// Secrets never sit in the config file: it names an environment variable or a file, and they are
// resolved once at start-up into a Secret (src/core/secret.ts), which never prints its value.
import { readFileSync } from 'node:fs';
import { Secret } from '../core/secret.js';

export type SecretRef = { env: string } | { file: string };

/** Resolves one reference; a missing or empty secret is a problem (a string), never an open door. */
export function resolveSecret(
  ref: SecretRef,
  env: NodeJS.ProcessEnv,
  resolvePath: (p: string) => string,
): Secret | string {
  if ('env' in ref) {
    const value = env[ref.env];
    return value === undefined || value === '' ? `environment variable ${ref.env} is not set` : new Secret(value);
  }
  try {
    const value = readFileSync(resolvePath(ref.file), 'utf8').trim();
    return value === '' ? `secret file ${ref.file} is empty` : new Secret(value);
  } catch {
    return `secret file ${ref.file} cannot be read`;
  }
}

/** Collects resolution problems under their config paths, so one start-up error lists them all. */
export class SecretResolver {
  readonly problems: string[] = [];
  constructor(
    private readonly env: NodeJS.ProcessEnv,
    private readonly resolvePath: (p: string) => string,
  ) {}

  resolve(ref: SecretRef, at: string): Secret | undefined {
    const secret = resolveSecret(ref, this.env, this.resolvePath);
    if (typeof secret !== 'string') return secret;
    this.problems.push(`${at}: ${secret}`);
    return undefined;
  }

  resolveAll(refs: SecretRef[] | undefined, at: string): Secret[] {
    return (refs ?? []).flatMap((ref, index) => this.resolve(ref, `${at}/${index}`) ?? []);
  }
}
