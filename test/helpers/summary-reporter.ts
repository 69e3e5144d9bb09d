// Prints one plain closing line, `gatehouse: N passed, N failed, N skipped`, as the very last line
// of a run, so that tools that read a run's last lines can count it without knowing vitest. It is
// written at process exit because the default reporter prints its own summary after onTestRunEnd.
import type { Reporter, TestModule } from 'vitest/node';

export default class SummaryReporter implements Reporter {
  private line: string | undefined;

  constructor() {
    process.once('exit', () => {
      if (this.line !== undefined) process.stdout.write(`\n${this.line}\n`);
    });
  }

  onTestRunEnd(modules: ReadonlyArray<TestModule>): void {
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    for (const module of modules) {
      const tests = [...module.children.allTests()];
      for (const test of tests) {
        const state = test.result().state;
        if (state === 'passed') passed += 1;
        else if (state === 'failed') failed += 1;
        else skipped += 1;
      }
      // A file that failed to load has no tests; count it, so a broken file cannot pass silently.
      if (module.state() === 'failed' && tests.length === 0) failed += 1;
    }
    this.line = `gatehouse: ${passed} passed, ${failed} failed, ${skipped} skipped`;
  }
}
