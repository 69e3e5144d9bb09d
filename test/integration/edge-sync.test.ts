// The key sync never leaves a half-installed key set: when `haproxy -c` refuses the rendered
// files, the previous files come back and the new ones are removed.
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EdgeConfigError, syncJwks } from '../../src/edge/sync-jwks.js';
import { useGatehouse } from '../helpers/gatehouse.js';

/** Only the dev issuer, whose JWKS the sync reads. */
const g = useGatehouse({ worker: false, bridge: false });

describe('syncJwks', () => {
  it('removes the files of a key set that haproxy -c refused, and keeps nothing of it', async () => {
    const keysDir = mkdtempSync(join(tmpdir(), 'gatehouse-keys-'));
    const refused = await syncJwks({
      jwksUrl: g.issuer.jwksUrl,
      keysDir,
      configFiles: [],
      haproxy: 'false', // a check that always fails
      retainSeconds: 0,
    }).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(EdgeConfigError);
    expect(readdirSync(keysDir)).toEqual([]);
  });
});
