// The `gatehouse` command's process entry (bin/gatehouse.js runs its compiled form): the real
// streams and environment, the system browser, and the version of the package it ships in.
import { readFileSync } from 'node:fs';
import { runCommand } from './program.js';

/** The version in the package.json above this file: src/command in a checkout, dist/src/command installed. */
function packageVersion(): string | undefined {
  for (let dir = new URL('.', import.meta.url); ; dir = new URL('..', dir)) {
    try {
      const manifest = JSON.parse(readFileSync(new URL('package.json', dir), 'utf8')) as {
        name?: string;
        version?: string;
      };
      if (manifest.name === 'gatehouse') return manifest.version;
    } catch {
      // no package.json here: look further up
    }
    if (dir.pathname === '/') return undefined;
  }
}

const version = packageVersion();
process.exitCode = await runCommand(
  process.argv.slice(2),
  { stdout: process.stdout, stderr: process.stderr, env: process.env },
  version === undefined ? {} : { version },
);
