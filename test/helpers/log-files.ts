// Where a test file's logs go: .data/test-logs/<path of the test file, slashes as __>.log.
import { join, relative, resolve } from 'node:path';

export const testLogDir = resolve('.data/test-logs');

export function logFileFor(testPath: string): string {
  return join(testLogDir, `${relative(process.cwd(), testPath).replaceAll('/', '__') || 'run'}.log`);
}
