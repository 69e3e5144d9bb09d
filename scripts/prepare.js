// npm's prepare step: compiles the `gatehouse` command (bin/gatehouse.js runs dist/src/command).
// npm runs it on `npm ci` and `npm install` in a checkout, on `npm pack` (so the package carries
// the compiled command), and on `npm install -g .`. It is skipped where the sources or the
// compiler are not there yet: the Dockerfile installs the dependencies before it copies the
// sources (for its layer cache), and builds everything later with `npm run build`.
// `npx gatehouse` in a checkout also runs it, the first time, when it links the checkout into
// npx's cache: there the command is already built by `npm ci`, so it is not compiled again (that
// took 12 s on an idle machine, before the command printed anything).
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

if (process.env.npm_command === 'exec' && existsSync('dist/src/command/main.js')) {
  // npx linking the checkout: run what `npm ci` compiled.
} else if (!existsSync('tsconfig.command.json') || !existsSync('node_modules/typescript/bin/tsc')) {
  console.log('prepare: no sources or no TypeScript here; the gatehouse command is not compiled');
} else {
  execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.command.json'], {
    stdio: 'inherit',
  });
}
