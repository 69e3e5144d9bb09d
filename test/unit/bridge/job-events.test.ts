// The event stream's names and frames: ids are `<run>:<position>` and `<run>:end`, a Last-Event-ID
// that is not one of ours is a 400, data is always one line whatever a result holds, and the
// progress log maps onto positions 1… with its own event types.
import { describe, expect, it } from 'vitest';
import {
  eventId,
  finalFrames,
  frame,
  parseLastEventId,
  progressFrame,
  readProgress,
  retryFrame,
  runTag,
  startedFrame,
} from '../../../src/bridge/jobs/job-events.js';
import type { JobView } from '../../../src/core/job-view.js';

const view: JobView = {
  jobId: 'ci.abcdefabcdefabcdef',
  runId: '0199a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b',
  route: 'ci',
  workflowType: 'ciPipeline',
  source: 'api',
  owner: 'jwt:https://idp.test#ada',
  status: 'COMPLETED',
  startedAt: '2026-01-01T00:00:00.000Z',
  closedAt: '2026-01-01T00:01:00.000Z',
  result: { output: 'line one\nline two\r\n\n: forged comment\nid: forged' },
};

describe('job event ids', () => {
  it('names each run with 10 characters of its digest, the same on every replica', () => {
    const run = runTag(view.runId);
    expect(run).toMatch(/^[A-Za-z0-9_-]{10}$/);
    expect(runTag(view.runId)).toBe(run);
    expect(runTag(`${view.runId.slice(0, -1)}c`)).not.toBe(run);
    expect(eventId(run, 7)).toBe(`${run}:7`);
    expect(eventId(run, 'end')).toBe(`${run}:end`);
  });

  it('reads back every id it makes, and nothing else', () => {
    const run = runTag(view.runId);
    expect(parseLastEventId(undefined)).toBeUndefined();
    expect(parseLastEventId('')).toBeUndefined();
    expect(parseLastEventId(`${run}:0`)).toEqual({ run, position: 0 });
    expect(parseLastEventId(`${run}:123`)).toEqual({ run, position: 123 });
    expect(parseLastEventId(`${run}:end`)).toEqual({ run, position: 'end' });
    for (const bad of ['x', `${run}:`, `${run}:-1`, `${run}:01`, `${run}:1234567`, `${run}:1 `, `a:1`, `${run}:END`]) {
      expect(() => parseLastEventId(bad), bad).toThrow(expect.objectContaining({ code: 'GATEHOUSE_BAD_REQUEST' }));
    }
    expect(() => parseLastEventId([`${run}:1`, `${run}:2`])).toThrow();
  });
});

describe('job event frames', () => {
  it('keeps data on one line whatever it holds, so nothing in a result can forge an event', () => {
    const text = finalFrames('AAAAAAAAAA', view);
    const lines = text.split('\n');
    expect(lines.filter((line) => line.startsWith('id:'))).toEqual(['id: AAAAAAAAAA:end']);
    expect(lines.filter((line) => line.startsWith('data:'))).toHaveLength(2);
    expect(text.endsWith('event: end\ndata: {"status":"COMPLETED"}\n\n')).toBe(true);
    expect(JSON.parse(lines[2]!.slice('data: '.length))).toEqual(view);
  });

  it('starts every log with the job as it started, whatever its state now', () => {
    const started = startedFrame('AAAAAAAAAA', view);
    const running = startedFrame('AAAAAAAAAA', { ...view, status: 'RUNNING', closedAt: undefined, result: undefined });
    expect(started).toBe(running);
    expect(started).toContain('id: AAAAAAAAAA:0\nevent: status\n');
    expect(JSON.parse(started.split('data: ')[1]!)).toEqual({
      jobId: view.jobId,
      runId: view.runId,
      route: 'ci',
      workflowType: 'ciPipeline',
      source: 'api',
      owner: view.owner,
      status: 'RUNNING',
      startedAt: view.startedAt,
    });
  });

  it('puts progress entry n at position n + 1, as its own event type', () => {
    const entry = { kind: 'step', index: 1, name: 'test', state: 'passed', at: 'now' } as const;
    expect(progressFrame('AAAAAAAAAA', 4, entry)).toBe(
      'id: AAAAAAAAAA:5\nevent: step\ndata: {"index":1,"name":"test","state":"passed","at":"now"}\n\n',
    );
    expect(frame(undefined, 'x', 1)).toBe('event: x\ndata: 1\n\n');
    expect(retryFrame(1234.4, 'why')).toBe('retry: 1234\n: why\n\n');
  });

  it('reads a progress log only from a well-formed status', () => {
    expect(readProgress({ progress: [{ kind: 'phase', phase: 'planning', at: 'x' }] })).toHaveLength(1);
    expect(readProgress({ progress: [{ kind: 'other' }] })).toBeUndefined();
    expect(readProgress({ phase: 'running' })).toBeUndefined();
    expect(readProgress(null)).toBeUndefined();
  });
});
