// docker-compose.yml is for users (no Docker engine here), so it is checked by reading it: valid
// against the Compose schema (dclint), and in step with the dev stack's ports, variables and
// search attributes.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { bridgeCommand } from '../../src/config/bridge-process.js';
import { nodeEnvironment } from '../../src/config/node-environment.js';
import { workerCommand } from '../../src/config/worker-process.js';
import { envOverrides, loadConfig } from '../../src/config/load-config.js';
import { searchAttributeArgs } from '../../src/core/search-attributes.js';
import { tracingSettings, tracingVariables } from '../../src/telemetry/tracing.js';

interface Service {
  image?: string;
  command?: string[];
  environment?: Record<string, string>;
  ports?: string[];
  networks?: { default?: { ipv4_address?: string } };
  security_opt?: string[];
  user?: string;
  cap_drop?: string[];
  cap_add?: string[];
}
// merge: resolve the `<<:` keys the file uses for shared environments.
const compose = parse(readFileSync('docker-compose.yml', 'utf8'), { merge: true }) as {
  services: Record<string, Service>;
};
const secretVariables = [
  'GATEHOUSE_GITHUB_WEBHOOK_SECRET',
  'GATEHOUSE_GITLAB_WEBHOOK_TOKEN',
  'GATEHOUSE_GITEA_WEBHOOK_SECRET',
  'GATEHOUSE_BITBUCKET_WEBHOOK_SECRET',
];
const defaults = loadConfig({
  GATEHOUSE_CONFIG: 'config/gatehouse.yaml',
  ...Object.fromEntries(secretVariables.map((name) => [name, 'x'])),
});

describe('docker-compose.yml', () => {
  it('runs each bridge with the command the image runs, its Node flags included', () => {
    const bridges = Object.entries(compose.services).filter(([name]) => /^bridge\d+$/.test(name));
    expect(bridges.length).toBeGreaterThan(1);
    for (const [name, service] of bridges) expect(service.command, name).toEqual(bridgeCommand);
    const cmd = /^CMD (\[.*\])$/m.exec(readFileSync('Dockerfile', 'utf8'))?.[1];
    expect(JSON.parse(cmd ?? 'null')).toEqual(bridgeCommand);
  });

  it("runs every process with the image's environment for Node (src/config/node-environment.ts)", () => {
    const dockerfile = readFileSync('Dockerfile', 'utf8');
    for (const [name, value] of Object.entries(nodeEnvironment)) {
      expect(dockerfile, name).toMatch(new RegExp(`^ENV .*\\b${name}=${value}(\\s|$)`, 'm'));
      // Compose and the chart run the image, and neither may set the variable otherwise.
      expect(JSON.stringify(compose), name).not.toContain(name);
      expect(readFileSync('deploy/helm/gatehouse/values.yaml', 'utf8'), name).not.toContain(name);
    }
  });

  it('is valid against the Compose specification', () => {
    expect(() =>
      execFileSync('node_modules/.bin/dclint', ['-q', 'docker-compose.yml'], { stdio: 'pipe' }),
    ).not.toThrow();
  });

  it('registers exactly the search attributes the dev server gets', () => {
    const command = compose.services.temporal?.command ?? [];
    const registered = command.filter((_, i) => command[i - 1] === '--search-attribute');
    const expected = searchAttributeArgs.filter((_, i) => searchAttributeArgs[i - 1] === '--search-attribute');
    expect(registered.sort()).toEqual(expected.sort());
  });

  it('sets only the documented environment variables on the bridge and worker', () => {
    const documented = new Set([
      'GATEHOUSE_CONFIG',
      ...envOverrides.map(([name]) => name),
      ...secretVariables,
      ...tracingVariables,
    ]);
    const workers = Object.keys(compose.services).filter((name) => name.startsWith('worker'));
    expect(workers.length).toBeGreaterThan(0);
    for (const name of ['bridge1', 'bridge2', ...workers]) {
      for (const variable of Object.keys(compose.services[name]?.environment ?? {})) {
        expect(documented.has(variable), `${name}: ${variable}`).toBe(true);
      }
    }
  });

  it('runs Jaeger and sends every bridge and worker trace to its OTLP/HTTP port', () => {
    expect(compose.services.jaeger?.image).toMatch(/^jaegertracing\/jaeger:2\.[0-9]+\.[0-9]+$/);
    expect(compose.services.jaeger?.ports).toContain('127.0.0.1:16686:16686');
    const traced = Object.keys(compose.services).filter((name) => /^(bridge|worker)/.test(name));
    expect(traced.length).toBeGreaterThanOrEqual(4);
    for (const name of traced) {
      const environment = compose.services[name]?.environment ?? {};
      expect(tracingSettings(environment, 'gatehouse')?.tracesUrl, name).toBe('http://jaeger:4318/v1/traces');
    }
  });

  it('publishes the same ports as the dev stack and the default config', () => {
    const published = (service: string) => (compose.services[service]?.ports ?? []).map((p) => p.split(':').at(-1));
    expect(published('haproxy')).toContain('8443');
    expect(published('temporal')).toContain(defaults.temporal.address.split(':').at(-1));
    expect(published('dev-issuer')).toContain(new URL(defaults.auth.issuer).port);
    expect(compose.services.bridge1?.environment?.GATEHOUSE_JWT_AUDIENCE).toBe(defaults.auth.audience);
    expect(compose.services.haproxy?.environment?.EDGE_JWT_AUDIENCE).toBe(defaults.auth.audience);
  });

  it('runs two bridge replicas behind HAProxy, and gives HAProxy every EDGE_* variable its config reads', () => {
    const edge = compose.services.haproxy?.environment ?? {};
    expect([edge.EDGE_BRIDGE_1, edge.EDGE_BRIDGE_2]).toEqual(['bridge1:8080', 'bridge2:8080']);
    const used = new Set(
      [...readFileSync('haproxy/haproxy.cfg', 'utf8').matchAll(/\$\{(EDGE_[A-Z0-9_]+)\}/g)].map((m) => m[1]),
    );
    for (const name of used) expect(edge[name!], name).toBeDefined();
    expect(compose.services['edge-sync']?.environment?.EDGE_KEYS_DIR).toBe(edge.EDGE_KEYS_DIR);
  });

  it('gives the bridges every webhook secret the default config names, and from the user, not the file', () => {
    const environment = compose.services.bridge1?.environment ?? {};
    for (const name of secretVariables) expect(environment[name], name).toMatch(/^\$\{[A-Z_]+:\?/);
  });

  it('runs one worker per task queue, and lets only the CI worker make sandbox namespaces', () => {
    const workers = Object.entries(compose.services).filter(([name]) => name.startsWith('worker'));
    const polled = workers.map(([, service]) => service.command?.[service.command.indexOf('--queues') + 1]);
    expect(polled.sort()).toEqual([...defaults.taskQueues].sort());
    for (const [name, service] of workers) {
      // The command the chart and the benchmark run: compiled, with the worker's Node flags.
      expect(service.command, name).toEqual(workerCommand(service.command![service.command!.indexOf('--queues') + 1]!));
      const ci = service.command?.includes('gatehouse-ci') === true;
      expect(service.security_opt !== undefined, name).toBe(ci);
    }
  });

  it("runs the CI worker as root with four capabilities, to give steps their own uids, under the chart's seccomp profile", () => {
    const ci = compose.services['worker-ci']!;
    expect(ci.user).toBe('root');
    expect(ci.cap_drop).toEqual(['ALL']);
    expect(ci.cap_add).toEqual(['CHOWN', 'KILL', 'SETGID', 'SETUID']);
    expect(ci.security_opt).toContain('seccomp=./deploy/seccomp/ci-worker.json');
    expect(ci.security_opt).toContain('no-new-privileges:true');
    expect(ci.security_opt?.some((option) => option.startsWith('seccomp=unconfined'))).toBe(false);
    expect(readFileSync('deploy/seccomp/ci-worker.json', 'utf8')).toBe(
      readFileSync('deploy/helm/gatehouse/files/seccomp/ci-worker.json', 'utf8'),
    );
    // The image runs as node; every other service keeps it.
    for (const [name, service] of Object.entries(compose.services))
      if (name !== 'worker-ci' && name !== 'haproxy') expect(service.user, name).toBeUndefined();
  });

  it('says in its header that it is a single-user development stack', () => {
    const header = readFileSync('docker-compose.yml', 'utf8').split('\nname:')[0]!;
    expect(header).toContain('SINGLE-USER DEVELOPMENT STACK');
    expect(header).toContain('mints a token for any subject with\n# any groups');
  });

  it('trusts only HAProxy for forwarded headers, and keeps its internal frontends off the wildcard', () => {
    const address = compose.services.haproxy?.networks?.default?.ipv4_address;
    expect(address).toMatch(/^172\./);
    expect(compose.services.bridge1?.environment?.GATEHOUSE_TRUST_PROXY).toBe(address);
    const edge = compose.services.haproxy?.environment ?? {};
    for (const name of ['EDGE_ARGO_BIND', 'EDGE_STATS_BIND']) {
      expect(edge[name]?.startsWith('0.0.0.0'), name).toBe(false);
      expect(edge[name]?.startsWith(`${address}:`), name).toBe(true);
    }
  });
});
