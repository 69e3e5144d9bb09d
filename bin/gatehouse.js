#!/usr/bin/env node
// The `gatehouse` command (src/command). Runs the TypeScript sources through tsx, which the
// repository's install provides (npx gatehouse, npm install -g from a checkout, npm link).
import { register } from 'tsx/esm/api';

register();
await import('../src/command/main.ts');
