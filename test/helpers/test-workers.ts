// Real Temporal workers for a test's config, on the run's shared dev server and workflow bundle.
import type { WorkflowBundleOption } from '@temporalio/worker';
import { inject } from 'vitest';
import type { GatehouseConfig } from '../../src/config/load-config.js';
import type { Tracing } from '../../src/telemetry/tracing.js';
import { createWorkers, type WorkerSet } from '../../src/worker/worker-runtime.js';
import { testSecrets } from './test-config.js';

export interface RunningWorkers {
  set: WorkerSet;
  stop(): Promise<void>;
}

/**
 * `bundle` and `tracing`: a traced worker needs a bundle with the tracing interceptors;
 * `taskQueues`: the queues it polls
 * (default all of the config's); `env`: secrets for the workers beyond the test secrets.
 */
export interface WorkerOptions {
  bundle?: WorkflowBundleOption;
  tracing?: Tracing;
  taskQueues?: string[];
  env?: Record<string, string>;
}

export async function startWorkers(config: GatehouseConfig, options: WorkerOptions = {}): Promise<RunningWorkers> {
  const set = await createWorkers(config, {
    bundle: options.bundle ?? { codePath: inject('workflowBundlePath') },
    handleSignals: false,
    env: { ...testSecrets, ...options.env },
    ...(options.taskQueues === undefined ? {} : { taskQueues: options.taskQueues }),
    ...(options.tracing === undefined ? {} : { tracing: options.tracing }),
  });
  const running = set.run();
  return {
    set,
    async stop() {
      set.shutdown();
      await running;
    },
  };
}
