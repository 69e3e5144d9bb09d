// The `worker` section: what each queue's worker takes on at once, passed to the Temporal SDK as
// its own options, unset keys left at the SDK's defaults; slots beyond the cache are refused at
// load time (the SDK would quietly lower them).
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/config/load-config.js';
import { workerTuning } from '../../../src/worker/worker-runtime.js';
import { configScratch, minimalConfig } from '../../helpers/config-files.js';

const { load } = configScratch('gatehouse-worker-tuning-');

describe('the worker section', () => {
  it('leaves every SDK option at its default when unset', () => {
    const config = load(minimalConfig());
    expect(config.worker).toEqual({});
    expect(workerTuning(config)).toEqual({});
  });

  it('passes the cache and the slots to the SDK under its names', () => {
    const config = load(
      minimalConfig(),
      {},
      { worker: { cachedWorkflows: 100, workflowTaskSlots: 8, activitySlots: 4 } },
    );
    expect(workerTuning(config)).toEqual({
      maxCachedWorkflows: 100,
      maxConcurrentWorkflowTaskExecutions: 8,
      maxConcurrentActivityTaskExecutions: 4,
    });
    expect(workerTuning(load(minimalConfig(), {}, { worker: { cachedWorkflows: 0 } }))).toEqual({
      maxCachedWorkflows: 0,
    });
  });

  it('refuses more workflow task slots than cached workflows, and values below the minimums', () => {
    const problems = (overlay: Record<string, unknown>) => {
      try {
        load(minimalConfig(), {}, { worker: overlay });
      } catch (error) {
        expect(error).toBeInstanceOf(ConfigError);
        return (error as ConfigError).problems;
      }
      return [];
    };
    expect(problems({ cachedWorkflows: 10, workflowTaskSlots: 20 })).toEqual([
      '/worker/workflowTaskSlots: 20 is more than /worker/cachedWorkflows (10)',
    ]);
    expect(problems({ cachedWorkflows: 0, workflowTaskSlots: 20 })).toEqual([]);
    expect(problems({ workflowTaskSlots: 1 })).toEqual([expect.stringMatching(/^\/worker\/workflowTaskSlots/)]);
    expect(problems({ activitySlots: 0 })).toEqual([expect.stringMatching(/^\/worker\/activitySlots/)]);
    expect(problems({ cachedWorkflows: -1 })).toEqual([expect.stringMatching(/^\/worker\/cachedWorkflows/)]);
    expect(problems({ slots: 3 })).toContainEqual(expect.stringMatching(/^\/worker/));
  });
});
