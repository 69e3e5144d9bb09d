// Secrets never sit in the config file: it names an environment variable or a file, and they are
// resolved once at start-up. A Secret prints as [redacted] in logs, JSON and util.inspect, so a
// config object can be logged whole without leaking one.
import { readFileSync } from 'node:fs';
import { inspect } from 'node:util';

export type SecretRef = { env: string } | { file: string };

export class Secret {
  readonly #value: string;
  constructor(value: string) {
    this.#value = value;
  }
  reveal(): string {
    return this.#value;
  }
  toJSON(): string {
    return '[redacted]';
  }
  toString(): string {
    return '[redacted]';
  }
  [inspect.custom](): string {
    return '[redacted]';
  }
}

/** Resolves one reference; a missing or empty secret is a problem, never an open door. */
export function resolveSecret(ref: SecretRef, env: NodeJS.ProcessEnv, resolvePath: (p: string) => string): Secret | string {
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
