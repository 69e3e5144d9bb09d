// The workflow-sandbox guard: code under workflows/ is replayed deterministically, so the linter
// must refuse Node built-ins, bridge code and value imports of activities there.
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
    ["import { buildApp } from '../src/app.js';\nexport const x = buildApp;\n", 'no-restricted-imports'],
    ["import { createActivities } from '../activities/index.js';\nexport const x = createActivities;\n", 'no-restricted-imports'],
    ['export const x = () => fetch("http://x");\n', 'no-restricted-globals'],
  ])('refuses %s in workflows/', async (code, rule) => {
    expect(await lint(code, 'workflows/bad.ts')).toContain(rule);
  });

  it('allows @temporalio/workflow and type imports of activities, and Node built-ins elsewhere', async () => {
    const ok = "import { proxyActivities } from '@temporalio/workflow';\nimport type { Activities } from '../activities/index.js';\nexport const a = proxyActivities<Activities>({ startToCloseTimeout: '1s' });\n";
    expect(await lint(ok, 'workflows/good.ts')).toEqual([]);
    expect(await lint("import { readFileSync } from 'node:fs';\nexport const x = readFileSync;\n", 'src/ok.ts')).toEqual([]);
  });
});
