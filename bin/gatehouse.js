#!/usr/bin/env node
// The `gatehouse` command's executable: the compiled command (dist/src/command), with no
// TypeScript at run time. `npm run build` writes it, and so does npm's prepare script, which runs
// on `npm ci` and `npm install` in a checkout, on `npm pack`, and on `npm install -g .`.
import { existsSync } from 'node:fs';

const main = new URL('../dist/src/command/main.js', import.meta.url);
if (!existsSync(main)) {
  process.stderr.write(
    `error: the gatehouse command is not built (no ${main.pathname})\n` +
      `  run \`npm run build:command\` in ${new URL('..', import.meta.url).pathname}\n`,
  );
  process.exit(2);
}
await import(main.href);
