// Prints one plain closing line, `gatehouse: N passed, N failed, N skipped`, as the very last line
// of a run, so that tools that read a run's last lines can count it without knowing vitest. It is
// written at process exit because the default reporter prints its own summary after onTestRunEnd.
// For each failing file it first prints where that file's logs are and their last lines.
import { existsSync, readFileSync } from 'node:fs';
import type { Reporter, TestModule } from 'vitest/node';
import { logFileFor } from './log-files.js';

const tailLines = 40;

export default class SummaryReporter implements Reporter {
  private lines: string[] = [];

  constructor() {
    process.once('exit', () => {
      if (this.lines.length > 0) process.stdout.write(`\n${this.lines.join('\n')}\n`);
    });
  }

  onTestRunEnd(modules: ReadonlyArray<TestModule>): void {
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    for (const module of modules) {
      const tests = [...module.children.allTests()];
      let moduleFailed = false;
      for (const test of tests) {
        const state = test.result().state;
        if (state === 'passed') passed += 1;
        else if (state === 'failed') {
          failed += 1;
          moduleFailed = true;
        } else skipped += 1;
      }
      // A file that failed to load has no tests; count it, so a broken file cannot pass silently.
      if (module.state() === 'failed' && tests.length === 0) {
        failed += 1;
        moduleFailed = true;
      }
      if (moduleFailed) this.lines.push(...logTail(module.moduleId));
    }
    this.lines.push(`gatehouse: ${passed} passed, ${failed} failed, ${skipped} skipped`);
  }
}

function logTail(moduleId: string): string[] {
  const file = logFileFor(moduleId);
  if (!existsSync(file)) return [];
  const lines = readFileSync(file, 'utf8').trimEnd().split('\n');
  return [
    `--- last ${Math.min(tailLines, lines.length)} of ${lines.length} log lines of ${file}`,
    ...lines.slice(-tailLines),
    '---',
  ];
}
