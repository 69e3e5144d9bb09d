// A worker process killed (SIGKILL) in the middle of a CI step: after the heartbeat timeout the
// activity is retried on another worker, resuming after the completed step; the job finishes
// once and its usage is counted once.
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { defaultPayloadConverter } from '@temporalio/common';
import { afterAll, describe, expect, inject, it, vi } from 'vitest';
import { stringify } from 'yaml';
import { buildApp } from '../../src/bridge/app.js';
import { jwtPrincipal } from '../../src/core/principal.js';
import { startDevIssuer } from '../../src/dev/dev-issuer.js';
import { startGitServer, useGitServer } from '../helpers/git-server.js';
import {
  pipelines,
  startWorkers,
  testConfig,
  testConfigFile,
  uniqueName,
  testSecrets,
  type RunningWorkers,
  testLogger,
} from '../helpers/harness.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

describe('worker crash during a step', () => {
  it('retries the step on another worker and finishes the job once', async () => {
    const issuer = await startDevIssuer();
    cleanups.push(() => issuer.close());
    const git = await startGitServer({ README: 'x' });
    cleanups.push(() => git.close());
    // The steps of each attempt run under a uid of their own (the worker's sandbox ids), so the
    // retried step is another user than the one that wrote the file first: any of them may append.
    const markerDir = mkdtempSync(join(tmpdir(), 'gatehouse-marker-'));
    chmodSync(markerDir, 0o777);
    cleanups.push(() => rmSync(markerDir, { recursive: true, force: true }));
    const marker = join(markerDir, 'marks');
    writeFileSync(marker, '', { mode: 0o666 });
    chmodSync(marker, 0o666);
    const config = testConfig(issuer, uniqueName('gatehouse-crash'));
    config.ci.statusApis = {};
    // The killed worker cannot remove its checkout: keep it out of the shared scratch directory.
    config.ci.scratchDir = mkdtempSync(join(tmpdir(), 'gatehouse-scratch-'));
    cleanups.push(() => rmSync(config.ci.scratchDir, { recursive: true, force: true }));
    useGitServer(config, git);
    // This test is about resuming after a crash, and its steps leave marks in a file the test
    // reads, so they run without the sandbox (which would give them a private /tmp).
    config.ci.sandbox.runner = 'none';
    config.ci.pipelines = pipelines({
      repositories: ['crash/*'],
      runner: 'steps',
      steps: [
        { name: 'first', run: `echo first >> ${marker}`, timeout: '10m' },
        { name: 'slow', run: `echo slow-start >> ${marker}; sleep 3; echo slow-end >> ${marker}`, timeout: '60s' },
      ],
    });
    // The crashing worker is a real process with this config.
    const file = join(testConfigFile, '..', `.generated-${Date.now()}.yaml`);
    const { source: _source, webhookSecrets: _secrets, ...plain } = config;
    writeFileSync(file, stringify(plain));
    cleanups.push(() => rmSync(file, { force: true }));
    // The run's workflow bundle (test/helpers/global-setup.ts), so the process does not bundle its own.
    const bundles = dirname(inject('workflowBundlePath'));
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/worker.ts', '--workflow-bundles', bundles], {
      env: { ...process.env, ...testSecrets, GATEHOUSE_CONFIG: file },
      stdio: 'ignore',
    });
    cleanups.push(() => {
      if (child.exitCode === null) child.kill('SIGKILL');
    });

    const app = await buildApp(config, { logger: testLogger() });
    cleanups.push(() => app.close());
    const owner = uniqueName('maint');
    const token = await issuer.mint({ sub: owner, groups: ['maintainers'] });
    // As a client should: a 503 (Temporal slow to answer while this test's workers start) is
    // retried with the same Idempotency-Key, which answers the job that start may have made.
    const key = uniqueName('crash');
    const jobId = await vi.waitFor(
      async () => {
        const started = await app.inject({
          method: 'POST',
          url: '/v1/jobs/ci',
          headers: { authorization: `Bearer ${token}`, 'idempotency-key': key },
          payload: { provider: 'github', repository: { fullName: 'crash/x' }, after: git.sha },
        });
        expect(started.statusCode, started.body).toBe(202);
        return started.json().jobId as string;
      },
      { timeout: 30_000, interval: 500 },
    );

    await vi.waitFor(
      () => expect(existsSync(marker) && readFileSync(marker, 'utf8').includes('slow-start')).toBe(true),
      { timeout: 60_000, interval: 100 },
    );
    // The crash comes after Temporal has the heartbeat that records the first step (CI workers
    // send one within a second), while the second step runs.
    await vi.waitFor(
      async () => {
        const { pendingActivities } = await app.temporal.client.workflowService.describeWorkflowExecution({
          namespace: config.temporal.namespace,
          execution: { workflowId: jobId },
        });
        const details = pendingActivities?.[0]?.heartbeatDetails?.payloads?.[0];
        const beat =
          details === undefined || details === null
            ? undefined
            : defaultPayloadConverter.fromPayload<{ completed?: Array<{ name: string }> }>(details);
        expect(beat?.completed?.map((step) => step.name)).toEqual(['first']);
      },
      { timeout: 10_000, interval: 100 },
    );
    child.kill('SIGKILL');
    let workers: RunningWorkers | undefined;
    try {
      workers = await startWorkers(config);
      await vi.waitFor(
        async () => {
          const job = (
            await app.inject({ url: `/v1/jobs/${jobId}`, headers: { authorization: `Bearer ${token}` } })
          ).json();
          expect(job.status, JSON.stringify(job.failure)).toBe('COMPLETED');
        },
        { timeout: 45_000, interval: 500 },
      );
      const job = (
        await app.inject({ url: `/v1/jobs/${jobId}`, headers: { authorization: `Bearer ${token}` } })
      ).json();
      expect(job.result.steps.steps.map((s: { name: string; exitCode: number }) => [s.name, s.exitCode])).toEqual([
        ['first', 0],
        ['slow', 0],
      ]);
      const lines = readFileSync(marker, 'utf8').trim().split('\n');
      // The completed step was not run again (resumed from the heartbeat); the killed one was.
      expect(lines.filter((l) => l === 'first')).toHaveLength(1);
      expect(lines.filter((l) => l === 'slow-start')).toHaveLength(2);

      const usage = await app.inject({
        method: 'POST',
        url: '/v1/jobs/billing-usage',
        headers: { authorization: `Bearer ${token}` },
        payload: { from: '2000-01-01T00:00:00Z', to: '2100-01-01T00:00:00Z' },
      });
      const totals = (
        await app.inject({
          url: `/v1/jobs/${usage.json().jobId}?wait=5`,
          headers: { authorization: `Bearer ${token}` },
        })
      ).json().result.totals;
      expect(totals.find((t: { metric: string }) => t.metric === 'jobs')).toMatchObject({
        owner: jwtPrincipal(issuer.issuer, owner),
        quantity: 1,
      });
    } finally {
      await workers?.stop();
      rmSync(marker, { force: true });
    }
  }, 120_000);
});
