// A real worker process started with its secrets in the environment, as the Helm chart and Compose
// start it: once it polls, its environment block (/proc/<pid>/environ, which any process of its
// uid can read, and which `delete process.env[X]` does not change) holds none of them.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it, vi } from 'vitest';
import { stringify } from 'yaml';
import { secretEnvNames } from '../../src/config/worker-secrets.js';
import { loadTestConfig, testConfigFile, testSecrets, uniqueName } from '../helpers/gatehouse.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

describe('the worker process', () => {
  it('keeps no secret in its environment block once it polls, and keeps the rest', async () => {
    const queue = uniqueName('gatehouse-env');
    // A worker verifies no token: its config names an issuer that nothing here runs.
    const config = loadTestConfig({
      issuer: { issuer: 'http://issuer.invalid', audience: 'gatehouse' },
      taskQueue: queue,
    });
    const file = join(testConfigFile, '..', `.generated-env-${Date.now()}.yaml`);
    const { source: _source, webhookSecrets: _secrets, ...plain } = config;
    writeFileSync(file, stringify(plain));
    cleanups.push(() => rmSync(file, { force: true }));
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/worker.ts', '--queues', queue], {
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        GATEHOUSE_CONFIG: file,
        TEMPORAL_ADDRESS: inject('temporalAddress'),
        GATEHOUSE_TEST_PLAIN: 'plain-value-kept',
        ...testSecrets,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    cleanups.push(async () => {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      await once(child, 'exit');
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    await vi.waitFor(() => expect(output).toContain(`worker polling ${queue}`), { timeout: 120_000, interval: 200 });

    const environ = readFileSync(`/proc/${child.pid}/environ`, 'latin1');
    // Every variable the config names as a secret, whether this worker needs it or not.
    const secretNames = secretEnvNames(config) as Array<keyof typeof testSecrets>;
    expect(secretNames).toEqual(expect.arrayContaining(['TEST_STATUS_TOKEN', 'TEST_GITHUB_SECRET']));
    for (const name of secretNames) expect(environ, name).not.toContain(testSecrets[name]);
    expect(environ).toContain('GATEHOUSE_TEST_PLAIN=plain-value-kept');
    expect(environ).toContain(`TEMPORAL_ADDRESS=${inject('temporalAddress')}`);
    const cmdline = readFileSync(`/proc/${child.pid}/cmdline`, 'latin1');
    for (const name of secretNames) expect(cmdline).not.toContain(testSecrets[name]);
  }, 150_000);
});
