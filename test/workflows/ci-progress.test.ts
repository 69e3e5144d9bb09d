// ciPipeline's progress log (its `status` query, the job event stream's source) with mocked
// activities: steps reported by the activity's signals are logged once each, steps whose signal
// never came are logged from the outcome before the phase moves on, late or repeated reports
// change nothing, Argo progress is logged when it changes, and a cancellation is a phase.
import { Context } from '@temporalio/activity';
import { describe, expect, it } from 'vitest';
import type { ArgoOutcome } from '../../activities/argo.js';
import type { PipelinePlan, StepsOutcome } from '../../activities/ci.js';
import { ciStepSignalName, type CiProgress, type CiStatus, type CiStepReport } from '../../src/core/ci-status.js';
import { ciPush, mockPipeline, startPipeline, stepsPlan } from '../helpers/ci-workflow.js';
import { calls, useWorkflowHarness } from '../helpers/workflow-worker.js';

const h = useWorkflowHarness();
const push = ciPush('b'.repeat(40));
const plan = (over: Partial<PipelinePlan> = {}): PipelinePlan =>
  stepsPlan({
    steps: [
      { name: 'lint', run: 'true', timeoutMs: 60_000 },
      { name: 'test', run: 'true', timeoutMs: 60_000 },
    ],
    ...over,
  });
const step = (name: string, exitCode: number) => ({
  name,
  exitCode,
  signal: null,
  timedOut: false,
  durationMs: 7,
  output: '',
});

function pipeline(over: object) {
  return mockPipeline(plan, over);
}

/** Runs the pipeline to its end and answers the log its status query holds then. */
async function progressOf(activities: object): Promise<CiProgress[]> {
  return h.withWorker(activities, async (taskQueue) => {
    const handle = await startPipeline(h.client, taskQueue, push);
    await handle.result().catch(() => undefined);
    return (await handle.query<CiStatus>('status')).progress;
  });
}

/** What a log says, without the timestamps. */
const story = (progress: CiProgress[]) =>
  progress.map((entry) =>
    entry.kind === 'phase'
      ? `phase ${entry.phase}`
      : entry.kind === 'step'
        ? `step ${entry.index} ${entry.name} ${entry.state}`
        : `argo ${entry.phase}${entry.progress === undefined ? '' : ` ${entry.progress}`}`,
  );

/** Signals the activity's own workflow, as the real steps activity does through its client. */
async function report(value: CiStepReport): Promise<void> {
  const { workflowId, runId } = Context.current().info.workflowExecution!;
  await h.client.workflow.getHandle(workflowId, runId).signal(ciStepSignalName, value);
}

describe('ciPipeline progress log', () => {
  it('logs each step once: from its signals, or from the outcome when no signal came; repeats change nothing', async () => {
    const outcome: StepsOutcome = { ok: true, steps: [step('lint', 0), step('test', 0)], durationMs: 20 };
    const progress = await progressOf(
      pipeline({
        runSteps: calls(async () => {
          await report({ index: 0, name: 'lint', state: 'started', attempt: 1 });
          await report({ index: 0, name: 'lint', state: 'passed', exitCode: 0, durationMs: 7 });
          await report({ index: 0, name: 'lint', state: 'passed', exitCode: 0, durationMs: 7 });
          await report({ index: 0, name: 'lint', state: 'started', attempt: 1 });
          // `test` is never reported: its signal was lost.
          return outcome;
        }),
      }),
    );
    expect(story(progress)).toEqual([
      'phase planning',
      'phase checking out',
      'phase running',
      'step 0 lint started',
      'step 0 lint passed',
      'step 1 test passed',
      'phase passed',
    ]);
    expect(progress[5]).toMatchObject({ exitCode: 0, durationMs: 7, timedOut: false, at: expect.any(String) });
    expect(progress[5]).not.toHaveProperty('output');
  });

  it('logs the failing step from the outcome before the failed phase', async () => {
    const outcome: StepsOutcome = { ok: false, failedStep: 'lint', steps: [step('lint', 2)], durationMs: 9 };
    const progress = await progressOf(pipeline({ runSteps: calls(async () => outcome) }));
    expect(story(progress)).toEqual([
      'phase planning',
      'phase checking out',
      'phase running',
      'step 0 lint failed',
      'phase failed',
    ]);
  });

  it('logs Argo progress when it changes', async () => {
    const reads: Array<Partial<ArgoOutcome>> = [
      { phase: 'Running', progress: '0/2' },
      { phase: 'Running', progress: '0/2' },
      { phase: 'Running', progress: '1/2' },
      { phase: 'Succeeded', progress: '2/2' },
    ];
    const progress = await progressOf(
      pipeline({
        planPipeline: calls(async () => plan({ runner: 'argo', steps: undefined, argo: { namespace: 'ci' } })),
        submitArgoWorkflow: calls(async (): Promise<ArgoOutcome> => ({ name: 'gatehouse-y', phase: 'Pending' })),
        getArgoWorkflow: calls(async (): Promise<ArgoOutcome> => ({
          name: 'gatehouse-y',
          phase: 'Succeeded',
          ...reads.shift(),
        })),
      }),
    );
    expect(story(progress)).toEqual([
      'phase planning',
      'phase checking out',
      'phase running',
      'argo Pending',
      'argo Running 0/2',
      'argo Running 1/2',
      'argo Succeeded 2/2',
      'phase passed',
    ]);
    // Each Argo entry names its namespace: the console links to the workflow in the Argo UI.
    expect(progress.filter((entry) => entry.kind === 'argo').map((entry) => entry.namespace)).toEqual([
      'ci',
      'ci',
      'ci',
      'ci',
    ]);
  }, 20_000);

  it('logs a cancellation as the cancelled phase', async () => {
    let markStarted = () => {};
    const started = new Promise<void>((resolve) => (markStarted = resolve));
    const activities = pipeline({
      runSteps: calls(async () => {
        markStarted();
        const context = Context.current();
        for (;;) {
          context.heartbeat();
          await context.sleep(100);
        }
      }),
    });
    const progress = await h.withWorker(activities, async (taskQueue) => {
      const handle = await startPipeline(h.client, taskQueue, push);
      await started;
      await handle.cancel();
      await handle.result().catch(() => undefined);
      return (await handle.query<CiStatus>('status')).progress;
    });
    expect(story(progress)).toEqual(['phase planning', 'phase checking out', 'phase running', 'phase cancelled']);
  });
});
