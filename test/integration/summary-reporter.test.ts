// The run's closing line against a real vitest: a run that fails outside its tests (an unhandled
// rejection after a passing test, a file that cannot be loaded, a beforeAll that throws and skips
// its file's tests) exits non-zero, and its last line counts each of those as a failure instead of
// saying "0 failed" or counting only the file with no tests.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const config = fileURLToPath(new URL('../fixtures/summary-reporter/vitest.config.ts', import.meta.url));
const vitest = fileURLToPath(new URL('../../node_modules/vitest/vitest.mjs', import.meta.url));

/** This run's own vitest variables would make the inner vitest think it is a worker of this one. */
function innerEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !/^(VITEST|GATEHOUSE_TEST_LOG$|NODE_OPTIONS$)/.test(name)),
  );
}

describe('the summary reporter', () => {
  it('counts unhandled errors and errors outside tests as failures in the last line', async () => {
    const child = spawn(process.execPath, [vitest, 'run', '--config', config], {
      env: { ...innerEnv(), CI: 'true' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    const [code] = (await once(child, 'exit')) as [number | null];

    expect(code, output).toBe(1);
    const lines = output.trimEnd().split('\n');
    expect(lines.at(-1), output).toBe('gatehouse: 1 passed, 3 failed, 2 skipped');
    expect(lines.at(-2)).toBe('unhandled error: Error: a rejection nobody handled');
  }, 60_000);
});
