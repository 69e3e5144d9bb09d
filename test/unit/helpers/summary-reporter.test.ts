// The closing line's counts, from modules built here: failed tests, errors outside tests (a file
// that did not load, a hook of the file or of a suite that failed), unhandled errors, and a run
// that failed for none of those reasons (interrupted) are all failures; skipped tests are skipped.
import { describe, expect, it } from 'vitest';
import { summarize, type CountedModule } from '../../helpers/summary-reporter.js';

function module(
  moduleId: string,
  tests: string[],
  options: { errors?: number; suiteErrors?: number[] } = {},
): CountedModule {
  const errors =
    (count = 0) =>
    () =>
      Array.from({ length: count }, () => new Error('outside a test'));
  return {
    moduleId,
    errors: errors(options.errors) as CountedModule['errors'],
    children: {
      allTests: () => tests.map((state) => ({ result: () => ({ state }) })),
      allSuites: () => (options.suiteErrors ?? []).map((count) => ({ errors: errors(count) })),
    },
  };
}

describe('summarize', () => {
  it('counts passed, failed and skipped tests, and names the files with failures', () => {
    const summary = summarize(
      [module('a.test.ts', ['passed', 'passed', 'skipped']), module('b.test.ts', ['failed', 'passed', 'pending'])],
      [],
      'failed',
    );
    expect(summary).toEqual({ passed: 3, failed: 1, skipped: 2, failedModules: ['b.test.ts'] });
  });

  it("counts a file's and its suites' errors outside tests, whose tests were skipped", () => {
    const summary = summarize(
      [
        module('no-load.test.ts', [], { errors: 1 }),
        module('hook.test.ts', ['skipped', 'skipped'], { errors: 1 }),
        module('suite-hook.test.ts', ['passed', 'skipped'], { suiteErrors: [0, 2] }),
        module('fine.test.ts', ['passed']),
      ],
      [],
      'failed',
    );
    expect(summary).toEqual({
      passed: 2,
      failed: 4,
      skipped: 3,
      failedModules: ['no-load.test.ts', 'hook.test.ts', 'suite-hook.test.ts'],
    });
  });

  it('counts each unhandled error, even when every test passed', () => {
    const summary = summarize([module('a.test.ts', ['passed'])], [new Error('x'), new Error('y')], 'failed');
    expect(summary).toMatchObject({ passed: 1, failed: 2, failedModules: [] });
  });

  it('never says 0 failed for a run that did not pass', () => {
    expect(summarize([module('a.test.ts', ['passed', 'pending'])], [], 'interrupted').failed).toBe(1);
    expect(summarize([module('a.test.ts', ['passed'])], [], 'passed').failed).toBe(0);
  });
});
