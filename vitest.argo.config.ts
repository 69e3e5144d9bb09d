import { defineConfig } from 'vitest/config';

// `npm run test:argo`: Gatehouse against a real Argo Workflows (docs/argo.md). Each file starts
// its own Argo test bed (src/dev/argo-bed/argo-bed.ts: etcd, a Kubernetes API server, kwok, an
// Argo controller and two Argo servers, about 1 GB and 10-20 s to start) and shares the run's one
// Temporal dev server (test/helpers/global-setup.ts). Two files at once: a third bed would only
// compete for the same two cores. Kept out of `npm test`; CI runs it after the cluster test.
export default defineConfig({
  test: {
    include: ['test/argo/**/*.test.ts'],
    reporters: ['default', './test/helpers/summary-reporter.ts'],
    globalSetup: ['test/helpers/global-setup.ts'],
    setupFiles: ['test/helpers/test-logs.ts'],
    pool: 'forks',
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
    testTimeout: 120_000,
    // A bed starts in beforeAll; the binaries are built before the run (npm run test:argo).
    hookTimeout: 300_000,
    teardownTimeout: 60_000,
  },
});
