// Setup file for every test file that runs Temporal: the logs of this file's workers (the SDK's
// Runtime logger) and bridges go to one file per test file under .data/test-logs/, not to the
// console, so a passing run prints a summary. The summary reporter prints a failing file's log.
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { DefaultLogger, Runtime, type LogEntry } from '@temporalio/worker';
import { expect } from 'vitest';
import { logFileFor } from './log-files.js';

const file = logFileFor(expect.getState().testPath ?? 'unknown');
mkdirSync(logFileFor('').replace(/[^/]*$/, ''), { recursive: true });
writeFileSync(file, '');
process.env.GATEHOUSE_TEST_LOG = file;

const write = (entry: LogEntry) => {
  const at = new Date(Number(entry.timestampNanos / 1_000_000n)).toISOString();
  appendFileSync(
    process.env.GATEHOUSE_TEST_LOG ?? file,
    `${at} [${entry.level}] ${entry.message} ${JSON.stringify(entry.meta ?? {})}\n`,
  );
};
try {
  Runtime.install({ logger: new DefaultLogger('INFO', write) });
} catch {
  // Installed by an earlier file in this process: it writes to GATEHOUSE_TEST_LOG, now this file's.
}
