import { defineConfig } from 'vitest/config';

// One Temporal dev server per run (test/helpers/global-setup.ts); tests isolate by task queue and
// workflow id. The default `forks` pool is kept because tests run Temporal workers in-process.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/helpers/global-setup.ts'],
    pool: 'forks',
    reporters: ['default', './test/helpers/summary-reporter.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    teardownTimeout: 20_000,
  },
});
