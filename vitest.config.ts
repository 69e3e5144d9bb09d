import { defineConfig } from 'vitest/config';

// Three projects. `unit` starts nothing, no process either (npm run test:unit). `tools` runs the
// command-line checkers over shipped files (helm, haproxy -c, kubernetes-validate, dclint, the
// check-config CLI). `temporal` shares one Temporal dev
// server per run (test/helpers/global-setup.ts) for the workflow, integration and e2e tests,
// which isolate themselves by task queue and workflow id; its logs go to a file per test file.
// The default `forks` pool is kept because tests run Temporal workers in-process.
export default defineConfig({
  test: {
    reporters: ['default', './test/helpers/summary-reporter.ts'],
    teardownTimeout: 20_000,
    // Most test files wait on Temporal, HAProxy or child processes rather than compute: three at
    // once use two cores better than two.
    poolOptions: { forks: { maxForks: 3, minForks: 1 } },
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          setupFiles: ['test/helpers/no-child-processes.ts'],
          pool: 'forks',
          testTimeout: 30_000,
        },
      },
      {
        test: { name: 'tools', include: ['test/tools/**/*.test.ts'], pool: 'forks', testTimeout: 60_000 },
      },
      {
        test: {
          name: 'temporal',
          include: ['test/workflows/**/*.test.ts', 'test/integration/**/*.test.ts', 'test/e2e/**/*.test.ts'],
          globalSetup: ['test/helpers/global-setup.ts'],
          setupFiles: ['test/helpers/test-logs.ts'],
          pool: 'forks',
          testTimeout: 30_000,
          hookTimeout: 60_000,
        },
      },
    ],
  },
});
