// The embedded ledger's files belong to one worker process: a second process that opens them
// fails at start-up with a ConfigError naming the owner, and a lock left by a dead process is
// taken over.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, type GatehouseConfig } from '../../src/config/load-config.js';
import { openLedger } from '../../src/worker/open-ledger.js';

const dir = mkdtempSync(join(tmpdir(), 'gatehouse-ledger-'));
const config = {
  ledger: { dataDir: join(dir, 'ledger') },
  source: join(dir, 'gatehouse.yaml'),
} as unknown as GatehouseConfig;

describe('embedded ledger lock', () => {
  it('refuses a second owner while the first is open, and admits one after it closes', async () => {
    const first = await openLedger(config);
    // Another live process holds it: this process's parent stands in for it.
    writeFileSync(join(dir, 'ledger.lock'), String(process.ppid));
    const second = await openLedger(config).catch((error: unknown) => error);
    expect(second).toBeInstanceOf(ConfigError);
    expect((second as ConfigError).problems[0]).toMatch(/is in use by process \d+; it belongs to one worker process/);
    writeFileSync(join(dir, 'ledger.lock'), String(process.pid));
    await first.close();
    // A lock whose process is gone is stale: taken over.
    writeFileSync(join(dir, 'ledger.lock'), '999999999');
    const third = await openLedger(config);
    expect(third.kind).toBe('pglite');
    await third.close();
  }, 30_000);
});
