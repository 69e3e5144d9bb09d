// The `gatehouse` command's process entry (bin/gatehouse.js loads it).
import { runCommand } from './program.js';

process.exitCode = await runCommand(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
});
