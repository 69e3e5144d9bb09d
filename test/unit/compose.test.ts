// docker-compose.yml is for users (no Docker engine here), so it is checked by reading it: valid
// against the Compose schema (dclint), and in step with the dev stack's ports, variables and
// search attributes.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { envOverrides, loadConfig } from '../../src/config/load-config.js';
import { searchAttributeArgs } from '../../src/temporal/search-attributes.js';

interface Service { command?: string[]; environment?: Record<string, string>; ports?: string[] }
const compose = parse(readFileSync('docker-compose.yml', 'utf8')) as { services: Record<string, Service> };
const secretVariables = ['GATEHOUSE_GITHUB_WEBHOOK_SECRET', 'GATEHOUSE_GITLAB_WEBHOOK_TOKEN', 'GATEHOUSE_GITEA_WEBHOOK_SECRET', 'GATEHOUSE_BITBUCKET_WEBHOOK_SECRET'];
const defaults = loadConfig({ GATEHOUSE_CONFIG: 'config/gatehouse.yaml', ...Object.fromEntries(secretVariables.map((name) => [name, 'x'])) });

describe('docker-compose.yml', () => {
  it('is valid against the Compose specification', () => {
    expect(() => execFileSync('node_modules/.bin/dclint', ['-q', 'docker-compose.yml'], { stdio: 'pipe' })).not.toThrow();
  });

  it('registers exactly the search attributes the dev server gets', () => {
    const command = compose.services.temporal?.command ?? [];
    const registered = command.filter((_, i) => command[i - 1] === '--search-attribute');
    const expected = searchAttributeArgs.filter((_, i) => searchAttributeArgs[i - 1] === '--search-attribute');
    expect(registered.sort()).toEqual(expected.sort());
  });

  it('sets only the documented environment variables on the bridge and worker', () => {
    const documented = new Set(['GATEHOUSE_CONFIG', ...envOverrides.map(([name]) => name), ...secretVariables]);
    for (const name of ['bridge', 'worker']) {
      for (const variable of Object.keys(compose.services[name]?.environment ?? {})) {
        expect(documented.has(variable), `${name}: ${variable}`).toBe(true);
      }
    }
  });

  it('publishes the same ports as the dev stack and the default config', () => {
    const published = (service: string) => (compose.services[service]?.ports ?? []).map((p) => p.split(':').at(-1));
    expect(published('bridge')).toContain(defaults.server.listen.split(':').at(-1));
    expect(published('temporal')).toContain(defaults.temporal.address.split(':').at(-1));
    expect(published('dev-issuer')).toContain(new URL(defaults.auth.issuer).port);
    expect(compose.services.bridge?.environment?.GATEHOUSE_JWT_AUDIENCE).toBe(defaults.auth.audience);
  });

  it('gives the bridge every webhook secret the default config names, and from the user, not the file', () => {
    const environment = compose.services.bridge?.environment ?? {};
    for (const name of secretVariables) expect(environment[name], name).toMatch(/^\$\{[A-Z_]+:\?/);
  });
});
