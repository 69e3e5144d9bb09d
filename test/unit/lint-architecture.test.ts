// The architecture is enforced by the linter: each layer imports only the layers below it, core and
// workflows stay pure and deterministic, and production entries never load the dev tools. Each
// forbidden import below must fail lint, and the allowed ones must pass.
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const eslint = new ESLint();

async function lint(code: string, filePath: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  return (result?.messages ?? []).map((m) => m.ruleId ?? m.message);
}

describe('workflow sandbox lint', () => {
  it.each([
    ["import { readFileSync } from 'node:fs';\nexport const x = readFileSync;\n", 'no-restricted-imports'],
    ["import { randomUUID } from 'crypto';\nexport const x = randomUUID;\n", 'no-restricted-imports'],
    ["import { buildApp } from '../src/bridge/app.js';\nexport const x = buildApp;\n", 'import-x/no-restricted-paths'],
    [
      "import { createActivities } from '../activities/index.js';\nexport const x = createActivities;\n",
      'no-restricted-imports',
    ],
    ['export const x = () => fetch("http://x");\n', 'no-restricted-globals'],
  ])('refuses %s in workflows/', async (code, rule) => {
    expect(await lint(code, 'workflows/bad.ts')).toContain(rule);
  });

  it('allows @temporalio/workflow, src/core and type imports of activities, and Node built-ins elsewhere', async () => {
    const ok = [
      "import { proxyActivities } from '@temporalio/workflow';",
      "import type { Activities } from '../activities/index.js';",
      "import { activityPolicies } from '../src/core/retry-policies.js';",
      'export const a = proxyActivities<Activities>(activityPolicies.quick);',
      '',
    ].join('\n');
    expect(await lint(ok, 'workflows/good.ts')).toEqual([]);
    expect(
      await lint("import { readFileSync } from 'node:fs';\nexport const x = readFileSync;\n", 'src/bridge/ok.ts'),
    ).toEqual([]);
  });
});

describe('layer lint', () => {
  it.each([
    [
      'src/core/bad.ts',
      "import { buildApp } from '../bridge/app.js';\nexport const x = buildApp;\n",
      'import-x/no-restricted-paths',
    ],
    [
      'src/core/bad.ts',
      "import { createHash } from 'node:crypto';\nexport const x = createHash;\n",
      'no-restricted-imports',
    ],
    [
      'src/providers/bad.ts',
      "import { loadConfig } from '../config/load-config.js';\nexport const x = loadConfig;\n",
      'import-x/no-restricted-paths',
    ],
    [
      'src/bridge/bad.ts',
      "import { createWorkers } from '../worker/worker-runtime.js';\nexport const x = createWorkers;\n",
      'import-x/no-restricted-paths',
    ],
    [
      'src/worker/bad.ts',
      "import { buildApp } from '../bridge/app.js';\nexport const x = buildApp;\n",
      'import-x/no-restricted-paths',
    ],
    [
      'activities/bad.ts',
      "import { loadConfig } from '../src/config/load-config.js';\nexport const x = loadConfig;\n",
      'import-x/no-restricted-paths',
    ],
    [
      'src/telemetry/bad.ts',
      "import { buildApp } from '../bridge/app.js';\nexport const x = buildApp;\n",
      'import-x/no-restricted-paths',
    ],
    [
      'src/server.ts',
      "import { startDevIssuer } from './dev/dev-issuer.js';\nexport const x = startDevIssuer;\n",
      'import-x/no-restricted-paths',
    ],
    [
      'src/edge/bad.ts',
      "import { buildApp } from '../bridge/app.js';\nexport const x = buildApp;\n",
      'import-x/no-restricted-paths',
    ],
    [
      'src/temporal/bad.ts',
      "import { GatehouseError } from '../bridge/errors.js';\nexport const x = GatehouseError;\n",
      'import-x/no-restricted-paths',
    ],
    [
      'src/temporal/bad.ts',
      "import { loadConfig } from '../config/load-config.js';\nexport const x = loadConfig;\n",
      'import-x/no-restricted-paths',
    ],
    [
      'src/command/bad.ts',
      "import { readJob } from '../temporal/read-job.js';\nexport const x = readJob;\n",
      'import-x/no-restricted-paths',
    ],
  ])('refuses in %s: %s', async (file, code, rule) => {
    expect(await lint(code, file)).toContain(rule);
  });

  it('allows imports downwards', async () => {
    expect(
      await lint(
        "import { isAdmin } from '../../core/access.js';\nexport const x = isAdmin;\n",
        'src/bridge/jobs/ok.ts',
      ),
    ).toEqual([]);
    expect(
      await lint(
        "import { providers } from '../src/providers/registry.js';\nexport const x = providers;\n",
        'activities/ok.ts',
      ),
    ).toEqual([]);
    expect(
      await lint("import { buildApp } from '../bridge/app.js';\nexport const x = buildApp;\n", 'src/dev/ok.ts'),
    ).toEqual([]);
    // The Temporal layer serves the bridge and the worker.
    for (const file of ['src/bridge/jobs/ok.ts', 'src/worker/ok.ts'])
      expect(
        await lint(
          `import { readJob } from '${file.startsWith('src/bridge') ? '../..' : '..'}/temporal/read-job.js';\nexport const x = readJob;\n`,
          file,
        ),
      ).toEqual([]);
  });

  it('refuses export * (names are exported explicitly)', async () => {
    expect(await lint("export * from './access.js';\n", 'src/core/bad.ts')).toContain('no-restricted-syntax');
  });
});
