// Prints one plain closing line, `gatehouse: N passed, N failed, N skipped`, as the very last line
// of a run, so that tools that read a run's last lines can count it without knowing vitest. It is
// written at process exit because the default reporter prints its own summary after onTestRunEnd.
// For each failing file it first prints where that file's logs are and their last lines.
//
// "failed" counts everything that makes vitest fail the run, not only failed tests: each error
// outside a test (a file that failed to load, a beforeAll or afterAll that threw or timed out,
// after which vitest skips the file's tests), each unhandled error or rejection vitest caught,
// and, should the run fail for a reason none of these name (an interrupted run), one more, so a
// failed run never ends with "0 failed".
import { existsSync, readFileSync } from 'node:fs';
import type { Reporter, TestModule, TestRunEndReason } from 'vitest/node';
import { logFileFor } from './log-files.js';

const tailLines = 40;
const unhandledShown = 5;

/** The parts of vitest's TestModule the counting reads (so a unit test can build them). */
export type CountedModule = Pick<TestModule, 'moduleId' | 'errors'> & {
  children: { allTests(): Iterable<{ result(): { state: string } }>; allSuites(): Iterable<{ errors(): unknown[] }> };
};

export interface RunSummary {
  passed: number;
  failed: number;
  skipped: number;
  /** The files that failed in some way (a test, or an error outside the tests). */
  failedModules: string[];
}

export function summarize(
  modules: ReadonlyArray<CountedModule>,
  unhandledErrors: ReadonlyArray<unknown>,
  reason: TestRunEndReason,
): RunSummary {
  const summary: RunSummary = { passed: 0, failed: 0, skipped: 0, failedModules: [] };
  for (const module of modules) {
    let moduleFailed = false;
    for (const test of module.children.allTests()) {
      const state = test.result().state;
      if (state === 'passed') summary.passed += 1;
      else if (state === 'failed') {
        summary.failed += 1;
        moduleFailed = true;
      } else summary.skipped += 1;
    }
    // Errors outside any test: the file's own (it failed to load, or a top-level hook failed)
    // and those of its suites' hooks.
    const outside = [module, ...module.children.allSuites()].reduce((sum, suite) => sum + suite.errors().length, 0);
    if (outside > 0) {
      summary.failed += outside;
      moduleFailed = true;
    }
    if (moduleFailed) summary.failedModules.push(module.moduleId);
  }
  summary.failed += unhandledErrors.length;
  if (reason !== 'passed' && summary.failed === 0) summary.failed = 1;
  return summary;
}

export default class SummaryReporter implements Reporter {
  private lines: string[] = [];

  constructor() {
    process.once('exit', () => {
      if (this.lines.length > 0) process.stdout.write(`\n${this.lines.join('\n')}\n`);
    });
  }

  onTestRunEnd(
    modules: ReadonlyArray<TestModule>,
    unhandledErrors: ReadonlyArray<unknown>,
    reason: TestRunEndReason,
  ): void {
    const summary = summarize(modules, unhandledErrors, reason);
    for (const moduleId of summary.failedModules) this.lines.push(...logTail(moduleId));
    for (const error of unhandledErrors.slice(0, unhandledShown))
      this.lines.push(`unhandled error: ${describe(error)}`);
    if (unhandledErrors.length > unhandledShown)
      this.lines.push(`… and ${unhandledErrors.length - unhandledShown} more unhandled errors`);
    this.lines.push(`gatehouse: ${summary.passed} passed, ${summary.failed} failed, ${summary.skipped} skipped`);
  }
}

function describe(error: unknown): string {
  if (typeof error !== 'object' || error === null) return String(error).slice(0, 200);
  const { name, message } = error as { name?: unknown; message?: unknown };
  const text = `${typeof name === 'string' ? name : 'Error'}: ${typeof message === 'string' ? message : ''}`;
  return text.split('\n')[0]!.slice(0, 200);
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
