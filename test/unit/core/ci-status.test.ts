// The CI progress log's rules, which the event stream's ids rely on: it only grows, a phase is
// logged when it changes, a step ends once and starts once per attempt, reports after the running
// phase are dropped, Argo progress only when it changes, and the log has a bound.
import { describe, expect, it } from 'vitest';
import {
  enterPhase,
  maxProgressEntries,
  newCiStatus,
  recordArgo,
  recordStep,
  type CiStepReport,
  type CiStatus,
} from '../../../src/core/ci-status.js';

const at = '2026-01-01T00:00:00.000Z';
const running = (): CiStatus => {
  const status = newCiStatus('acme/api', 'c'.repeat(40), at);
  enterPhase(status, 'checking out', at);
  enterPhase(status, 'running', at);
  status.steps = ['lint', 'test'];
  return status;
};

describe('the CI progress log', () => {
  it('starts in planning and logs each phase change once', () => {
    const status = newCiStatus('acme/api', undefined, at);
    enterPhase(status, 'planning', at);
    enterPhase(status, 'checking out', at);
    enterPhase(status, 'checking out', at);
    expect(status.phase).toBe('checking out');
    expect(status.progress).toEqual([
      { kind: 'phase', phase: 'planning', at },
      { kind: 'phase', phase: 'checking out', at },
    ]);
    expect(status).not.toHaveProperty('sha');
  });

  it('logs only reports about a step of this pipeline, by position and name, with a known state', () => {
    const status = running();
    const forged = [
      { index: 7, name: 'lint', state: 'passed' },
      { index: 0, name: 'deploy', state: 'passed' },
      { index: 0, name: 'lint', state: 'skipped' },
      { index: -1, name: 'lint', state: 'passed' },
      { index: 0, name: 'lint', state: 'started', attempt: 1.5 },
    ] as unknown as CiStepReport[];
    for (const report of forged) expect(recordStep(status, report, at), JSON.stringify(report)).toBe(false);
    expect(status.progress.filter((entry) => entry.kind === 'step')).toEqual([]);
  });

  it('logs a step end once, a start once per attempt, and only its own fields', () => {
    const status = running();
    expect(recordStep(status, { index: 0, name: 'lint', state: 'started', attempt: 1 }, at)).toBe(true);
    expect(recordStep(status, { index: 0, name: 'lint', state: 'started', attempt: 1 }, at)).toBe(false);
    expect(recordStep(status, { index: 0, name: 'lint', state: 'started', attempt: 2 }, at)).toBe(true);
    const report = { index: 0, name: 'lint', state: 'failed', exitCode: 1, output: 'secret' } as const;
    expect(recordStep(status, report, at)).toBe(true);
    expect(recordStep(status, { index: 0, name: 'lint', state: 'passed', exitCode: 0 }, at)).toBe(false);
    expect(status.progress.slice(3)).toEqual([
      { kind: 'step', at, index: 0, name: 'lint', state: 'started', attempt: 1 },
      { kind: 'step', at, index: 0, name: 'lint', state: 'started', attempt: 2 },
      { kind: 'step', at, index: 0, name: 'lint', state: 'failed', exitCode: 1 },
    ]);
  });

  it('drops a step report that comes once the run has left the running phase', () => {
    const status = running();
    enterPhase(status, 'passed', at);
    const before = status.progress.length;
    expect(recordStep(status, { index: 3, name: 'late', state: 'passed' }, at)).toBe(false);
    expect(status.progress).toHaveLength(before);
  });

  it('logs Argo progress when its phase, progress or message changes, and keeps the last read', () => {
    const status = running();
    recordArgo(status, { name: 'w', phase: 'Running', progress: '0/1', startedAt: 'x' }, at);
    recordArgo(status, { name: 'w', phase: 'Running', progress: '0/1', startedAt: 'y' }, at);
    recordArgo(status, { name: 'w', phase: 'Running', progress: '1/1' }, at);
    expect(status.progress.filter((e) => e.kind === 'argo')).toEqual([
      { kind: 'argo', at, name: 'w', phase: 'Running', progress: '0/1' },
      { kind: 'argo', at, name: 'w', phase: 'Running', progress: '1/1' },
    ]);
    expect(status.argo).toEqual({ name: 'w', phase: 'Running', progress: '1/1' });
  });

  it('stops growing at its bound', () => {
    const status = running();
    for (let i = 0; i < maxProgressEntries + 10; i += 1) recordArgo(status, { name: 'w', phase: `P${i}` }, at);
    expect(status.progress).toHaveLength(maxProgressEntries);
  });
});
