// Runs one command in the CI sandbox as the worker would (activities/sandbox.ts with the compiled
// step filter, as uid and gid 60000), and exits with its status, its output on this process's.
// test/integration/sandbox-container.test.ts starts it inside a masked /proc under the CI worker
// pod's seccomp profile, to show the sandbox works as the Helm chart deploys it.
//   node --import tsx test/helpers/run-sandboxed.ts <private|shared> <workspace> <shell command>
import { spawn } from 'node:child_process';
import { sandboxCommand } from '../../activities/sandbox.js';
import { compileStepSeccomp } from '../../src/worker/step-seccomp.js';

const [proc, workspace, script] = process.argv.slice(2);
if ((proc !== 'private' && proc !== 'shared') || workspace === undefined || script === undefined) {
  process.stderr.write('usage: run-sandboxed.ts <private|shared> <workspace> <shell command>\n');
  process.exit(2);
}
const ids = { uid: 60000, gid: 60000 };
const command = sandboxCommand({ runner: 'bwrap', proc }, ['sh', '-c', script], {
  workspace,
  network: { kind: 'none' },
  env: { PATH: '/usr/bin:/bin', HOME: '/tmp' },
  ids,
  seccomp: compileStepSeccomp(),
});
const child = spawn(command.file, command.args, { stdio: ['ignore', 'inherit', 'inherit', 'pipe'], env: {}, ...ids });
const fd3 = child.stdio[3] as NodeJS.WritableStream;
fd3.on('error', () => {});
fd3.end(command.fd3 ?? Buffer.alloc(0));
child.on('close', (code) => process.exit(code ?? 1));
