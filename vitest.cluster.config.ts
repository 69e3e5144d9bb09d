import { defineConfig } from 'vitest/config';

// `npm run test:cluster`: the fault test on the scale-out test bed (src/dev/cluster-stack.ts). One
// file, one stack, minutes long; kept out of `npm test`, and run by CI after it.
export default defineConfig({
  test: {
    include: ['test/cluster/**/*.test.ts'],
    reporters: ['default', './test/helpers/summary-reporter.ts'],
    pool: 'forks',
    testTimeout: 20 * 60_000,
    hookTimeout: 10 * 60_000,
    teardownTimeout: 120_000,
  },
});
