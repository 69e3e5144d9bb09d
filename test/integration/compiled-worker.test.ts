// The production worker: `node dist/src/worker.js` with its Node flags (src/config/worker-process.ts,
// as the image, the chart and Compose run it) loads the workflow bundle `npm run build` wrote beside
// it, polls a queue of the run's Temporal dev server and runs a job: a policy-check started through
// the bridge completes with Cedar's decision. Pointed at a directory without bundles, it refuses to
// start and says why. `npm test` builds first; a missing or stale build fails here, so these tests
// never pass on old code.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { workerCommand } from '../../src/config/worker-process.js';
import { staleBuild } from '../../src/dev/build.js';
import { testConfigFile, testRoutes, testSecrets, uniqueName, useGatehouse } from '../helpers/gatehouse.js';

const queue = uniqueName('gatehouse-compiled');
// The job's queue polls only policy-check; the other routes go to a queue nobody polls here, so
// this worker needs Cedar and no ledger.
const g = useGatehouse({
  taskQueue: queue,
  worker: false,
  overlay: {
    taskQueues: [queue, `${queue}-rest`],
    routes: Object.fromEntries(
      testRoutes.filter((name) => name !== 'policy-check').map((name) => [name, { taskQueue: `${queue}-rest` }]),
    ),
  },
});
const cleanups: Array<() => Promise<void> | void> = [];
let configFile: string;
let worker: ChildProcess;

/** Starts the compiled worker for `queue`; resolves once it says it polls, rejects if it exits first. */
function startCompiledWorker(queue: string, extraArgs: string[] = []): { child: ChildProcess; polling: Promise<void> } {
  const [node, ...args] = workerCommand(queue);
  expect(node).toBe('node');
  const child = spawn(process.execPath, [...args, ...extraArgs], {
    env: { PATH: process.env.PATH, ...testSecrets, GATEHOUSE_CONFIG: configFile },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  cleanups.push(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  const log = createWriteStream(process.env.GATEHOUSE_TEST_LOG ?? '/dev/null', { flags: 'a' });
  child.stderr!.pipe(log);
  const polling = new Promise<void>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      log.write(chunk);
      out += chunk.toString();
      if (out.includes(`worker polling ${queue}`)) resolve();
    });
    child.once('exit', (code) => reject(new Error(`the compiled worker exited (${code}) before it polled`)));
  });
  return { child, polling };
}

beforeAll(async () => {
  const stale = staleBuild();
  if (stale !== undefined) throw new Error(`${stale}: run \`npm run build\` first`);
  configFile = join(testConfigFile, '..', `.generated-compiled-${Date.now()}.yaml`);
  const { source: _source, webhookSecrets: _secrets, ...plain } = g.config;
  writeFileSync(configFile, stringify(plain));
  cleanups.push(() => rmSync(configFile, { force: true }));
  const started = startCompiledWorker(queue);
  worker = started.child;
  await started.polling;
});

afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

describe('the compiled worker', () => {
  it('starts from dist/ with the prebuilt bundle and runs a policy-check job', async () => {
    const me = await g.caller({ groups: ['maintainers'] });
    const { jobId } = await me.start('policy-check', {
      action: { type: 'Gatehouse::Action', id: 'deploy' },
      resource: { type: 'Gatehouse::Repository', id: 'acme/api' },
    });
    let job: Record<string, unknown> = { status: 'RUNNING' };
    for (let i = 0; i < 20 && job.status === 'RUNNING'; i += 1) job = await me.read(jobId, { wait: 5 });
    expect(job).toMatchObject({ status: 'COMPLETED', result: { decision: 'allow', policies: ['maintainers-deploy'] } });
    // SIGTERM: it drains and exits cleanly.
    worker.kill('SIGTERM');
    await new Promise((done) => worker.once('exit', done));
    expect(worker.exitCode).toBe(0);
  });

  it('refuses to start without its bundle, naming the file it looked for', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'gatehouse-no-bundles-'));
    cleanups.push(() => rmSync(empty, { recursive: true, force: true }));
    const { child, polling } = startCompiledWorker(queue, ['--workflow-bundles', empty]);
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    await expect(polling).rejects.toThrow(/exited \(2\)/);
    expect(stderr).toContain(`no workflow bundle at ${join(empty, 'workflows.js')}`);
  });

  it('ships bundles whose source maps lead to the TypeScript but carry none of its text', () => {
    for (const name of ['workflows.js', 'workflows-tracing.js']) {
      const code = readFileSync(join('dist/workflow-bundles', name), 'utf8');
      const map = JSON.parse(
        Buffer.from(code.slice(code.lastIndexOf('base64,') + 'base64,'.length), 'base64').toString(),
      ) as { sources: string[]; sourcesContent?: unknown };
      expect(map.sources, name).toContain(join(process.cwd(), 'workflows/ci-pipeline.ts'));
      expect(map.sourcesContent, name).toBeUndefined();
    }
  });
});
