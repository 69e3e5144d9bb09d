// Lint: typescript-eslint's recommended rules everywhere, plus the project's architecture:
//  - the layers (docs/architecture.md): a folder may import only the layers below it, and there
//    are no import cycles; import-x resolves every import through TypeScript, so a rule cannot be
//    dodged by a path spelling;
//  - the workflow sandbox: code under workflows/ runs in Temporal's deterministic sandbox and is
//    replayed, so it may not import Node built-ins or anything with I/O, clocks or randomness, and
//    imports only @temporalio/workflow, src/core and activity types;
//  - src/core is pure: no Node built-ins, so workflows may import it.
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';
import importX from 'eslint-plugin-import-x';
import prettier from 'eslint-config-prettier';
import tseslint from 'typescript-eslint';

const nodeBuiltins = [
  'assert',
  'buffer',
  'child_process',
  'cluster',
  'crypto',
  'dgram',
  'dns',
  'events',
  'fs',
  'fs/promises',
  'http',
  'http2',
  'https',
  'net',
  'os',
  'path',
  'perf_hooks',
  'process',
  'readline',
  'stream',
  'timers',
  'tls',
  'url',
  'util',
  'v8',
  'vm',
  'worker_threads',
  'zlib',
];
const noNodeBuiltins = (where) =>
  nodeBuiltins.flatMap((name) => [
    { name, message: `${where} is deterministic and pure: no Node built-ins.` },
    { name: `node:${name}`, message: `${where} is deterministic and pure: no Node built-ins.` },
  ]);

// Lowest first. Each layer may import the ones before it in its `may` list, and nothing else of ours.
const entries = ['./src/server.ts', './src/worker.ts', './src/cli.ts'];
const layers = {
  core: { path: './src/core', may: [] },
  // The typed client: generated types and openapi-fetch, nothing of ours, so others can use it.
  client: { path: './src/client', may: [] },
  providers: { path: './src/providers', may: ['core'] },
  config: { path: './src/config', may: ['core', 'providers'] },
  workflows: { path: './workflows', may: ['core', 'activities'] },
  activities: { path: './activities', may: ['core', 'providers'] },
  edge: { path: './src/edge', may: ['core', 'config'] },
  deliveries: { path: './src/deliveries', may: ['core', 'config'] },
  telemetry: { path: './src/telemetry', may: ['core', 'config'] },
  // Talking to Temporal (describing a job, following a run, calls under a deadline), for the bridge and the worker.
  temporal: { path: './src/temporal', may: ['core'] },
  bridge: { path: './src/bridge', may: ['core', 'providers', 'config', 'deliveries', 'telemetry', 'temporal'] },
  // The `gatehouse` command: a client of the API like any other, through src/client only.
  command: { path: './src/command', may: ['client'] },
  worker: {
    path: './src/worker',
    may: ['core', 'providers', 'config', 'activities', 'deliveries', 'telemetry', 'temporal'],
  },
};
const everything = [...Object.values(layers).map((l) => l.path), './src/dev', ...entries];
const zones = [
  ...Object.entries(layers).map(([name, layer]) => ({
    target: layer.path,
    from: everything.filter((path) => path !== layer.path && !layer.may.some((m) => layers[m].path === path)),
    message: `${name} may import only ${layer.may.join(', ') || 'nothing of ours'} (docs/architecture.md).`,
  })),
  // The process entries may use every layer but the development tools, which never ship.
  ...entries.map((entry) => ({
    target: entry,
    from: ['./src/dev'],
    message: 'Production entries never import src/dev.',
  })),
];

export default tseslint.config(
  { ignores: ['node_modules/**', '.venv/**', '.data/**', 'dist/**', 'bench/results/**', 'deploy/**'] },
  ...tseslint.configs.recommended,
  {
    plugins: { 'import-x': importX },
    settings: { 'import-x/resolver-next': [createTypeScriptImportResolver({ project: './tsconfig.json' })] },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'import-x/no-restricted-paths': ['error', { zones }],
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      'no-restricted-syntax': ['error', { selector: 'ExportAllDeclaration', message: 'Export names explicitly.' }],
    },
  },
  {
    files: ['src/core/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { paths: noNodeBuiltins('src/core') }] },
  },
  {
    files: ['workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: noNodeBuiltins('workflows/'),
          patterns: [
            {
              group: ['../activities/*'],
              allowTypeImports: true,
              message: 'Import activity types only (import type).',
            },
          ],
        },
      ],
      'no-restricted-globals': [
        'error',
        { name: 'setInterval', message: 'Use sleep() from @temporalio/workflow.' },
        { name: 'fetch', message: 'I/O belongs in activities.' },
        { name: 'process', message: 'No process state in workflows.' },
      ],
    },
  },
  prettier,
);
