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
import { startGitServer, gitServerOverlay } from '../helpers/git-server.js';
import { startWorkers, testConfigFile, testSecrets, useGatehouse, type RunningWorkers } from '../helpers/gatehouse.js';

/**
 * A file the steps leave marks in. The steps of each attempt run under a uid of their own (the
 * worker's sandbox ids), so the retried step is another user than the one that wrote the file
 * first: any of them may append.
 */
async function startMarks() {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-marker-'));
  chmodSync(dir, 0o777);
  const path = join(dir, 'marks');
  writeFileSync(path, '', { mode: 0o666 });
  chmodSync(path, 0o666);
  return { path, close: () => rmSync(dir, { recursive: true, force: true }) };
}

/** The killed worker cannot remove its checkout: a scratch directory of its own, not the shared one. */
async function startScratch() {
  const path = mkdtempSync(join(tmpdir(), 'gatehouse-scratch-'));
  return { path, close: () => rmSync(path, { recursive: true, force: true }) };
}

const g = useGatehouse({
  name: 'gatehouse-crash',
  // The workers of this test: a process it kills, then one in process.
  worker: false,
  fakes: { git: () => startGitServer({ README: 'x' }), marks: startMarks, scratch: startScratch },
  overlay: ({ fakes: { git, marks, scratch } }) => ({
    ci: {
      ...gitServerOverlay(git).ci,
      statusApis: null,
      scratchDir: scratch.path,
      // This test is about resuming after a crash, and its steps leave marks in a file the test
      // reads, so they run without the sandbox (which would give them a private /tmp).
      sandbox: { runner: 'none' },
      pipelines: [
        {
          repositories: ['crash/*'],
          runner: 'steps',
          steps: [
            { name: 'first', run: `echo first >> ${marks.path}`, timeout: '10m' },
            {
              name: 'slow',
              run: `echo slow-start >> ${marks.path}; sleep 3; echo slow-end >> ${marks.path}`,
              timeout: '60s',
            },
          ],
        },
      ],
    },
  }),
});

const cleanups: Array<() => Promise<void> | void> = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

describe('worker crash during a step', () => {
  it('retries the step on another worker and finishes the job once', async () => {
    const { config, app } = g;
    const marker = g.fakes.marks.path;
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

    const me = await g.caller({ groups: ['maintainers'] });
    // As a client should: a 503 (Temporal slow to answer while this test's workers start) is
    // retried with the same Idempotency-Key, which answers the job that start may have made.
    const key = `crash-${me.subject}`;
    const jobId = await vi.waitFor(
      async () => {
        const started = await me.send(
          'ci',
          { provider: 'github', repository: { fullName: 'crash/x' }, after: g.fakes.git.sha },
          { key },
        );
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
          const job = await me.read(jobId);
          expect(job.status, JSON.stringify(job.failure)).toBe('COMPLETED');
        },
        { timeout: 45_000, interval: 500 },
      );
      const job = (await me.read(jobId)) as { result: { steps: { steps: Array<{ name: string; exitCode: number }> } } };
      expect(job.result.steps.steps.map((s: { name: string; exitCode: number }) => [s.name, s.exitCode])).toEqual([
        ['first', 0],
        ['slow', 0],
      ]);
      const lines = readFileSync(marker, 'utf8').trim().split('\n');
      // The completed step was not run again (resumed from the heartbeat); the killed one was.
      expect(lines.filter((l) => l === 'first')).toHaveLength(1);
      expect(lines.filter((l) => l === 'slow-start')).toHaveLength(2);

      const usage = await me.start('billing-usage', { from: '2000-01-01T00:00:00Z', to: '2100-01-01T00:00:00Z' });
      const { totals } = (await me.read(usage.jobId, { wait: 5 })).result as { totals: Array<{ metric: string }> };
      expect(totals.find((t) => t.metric === 'jobs')).toMatchObject({
        owner: me.principal,
        quantity: 1,
      });
    } finally {
      await workers?.stop();
    }
  }, 120_000);
});
