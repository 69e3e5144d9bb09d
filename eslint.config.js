// Lint: typescript-eslint's recommended rules everywhere, plus the workflow-sandbox guard:
// code under workflows/ runs in Temporal's deterministic sandbox and is replayed, so it may not
// import Node built-ins or anything with I/O, clocks or randomness of its own.
import tseslint from 'typescript-eslint';

const nodeBuiltins = [
  'assert', 'buffer', 'child_process', 'cluster', 'crypto', 'dgram', 'dns', 'events', 'fs',
  'fs/promises', 'http', 'http2', 'https', 'net', 'os', 'path', 'perf_hooks', 'process',
  'readline', 'stream', 'timers', 'tls', 'url', 'util', 'v8', 'vm', 'worker_threads', 'zlib',
];

export default tseslint.config(
  { ignores: ['node_modules/**', '.venv/**', '.data/**', 'dist/**', 'bench/results/**'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: nodeBuiltins.flatMap((name) => [
          { name, message: 'Workflows are deterministic: no Node built-ins in workflows/.' },
          { name: `node:${name}`, message: 'Workflows are deterministic: no Node built-ins in workflows/.' },
        ]),
        patterns: [
          { group: ['../src/*', '../src/**'], message: 'Workflows import only @temporalio/workflow and types.' },
          { group: ['../activities/*'], allowTypeImports: true, message: 'Import activity types only (import type).' },
        ],
      }],
      'no-restricted-globals': ['error',
        { name: 'setInterval', message: 'Use sleep() from @temporalio/workflow.' },
        { name: 'fetch', message: 'I/O belongs in activities.' },
        { name: 'process', message: 'No process state in workflows.' },
      ],
    },
  },
);
