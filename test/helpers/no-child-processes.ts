import { vi } from 'vitest';

// The unit project starts nothing, not even a command-line tool: a test that needs one belongs
// in test/tools/ (a checker over shipped files) or test/integration/ (a real part).
function refuse(name: string) {
  return () => {
    throw new Error(`child_process.${name} in a unit test: unit tests start no process (move it to test/tools/)`);
  };
}

async function refusing(importOriginal: () => Promise<Record<string, unknown>>) {
  const real = await importOriginal();
  const entries = Object.entries(real).map(([key, value]) => [key, typeof value === 'function' ? refuse(key) : value]);
  const module = Object.fromEntries(entries) as Record<string, unknown>;
  return { ...module, default: module };
}

vi.mock('node:child_process', refusing);
vi.mock('child_process', refusing);
