// Config files for the config unit tests: a scratch directory with a permissive Cedar policy, the
// smallest valid config (one route, one queue), and a loader that writes a text to a new file there
// and loads it as the processes do (GATEHOUSE_CONFIG plus environment overrides), with an overlay
// when a test wants a variant.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, type GatehouseConfig } from '../../src/config/load-config.js';
import type { ConfigOverlay } from '../../src/config/overlay.js';

/** The smallest valid config; `temporal` is an optional `temporal:` block placed first. */
export function minimalConfig(temporal = ''): string {
  return `${temporal}
auth: { issuer: https://idp.example, audience: gatehouse }
taskQueues: [q1]
policy: { policies: p.cedar }
routes:
  policy-check:
    workflowType: policyCheck
    taskQueue: q1
    access: { anyAuthenticated: true }
    input: { type: object }
`;
}

export interface ConfigScratch {
  dir: string;
  /** `overlay`: merged into the file as loadConfig's option does. */
  load(text: string, env?: Record<string, string>, overlay?: ConfigOverlay): GatehouseConfig;
}

export function configScratch(prefix: string): ConfigScratch {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  writeFileSync(join(dir, 'p.cedar'), 'permit(principal, action, resource);');
  return {
    dir,
    load(text, env = {}, overlay) {
      const file = join(dir, `c-${Math.random().toString(36).slice(2)}.yaml`);
      writeFileSync(file, text);
      return loadConfig({ GATEHOUSE_CONFIG: file, ...env }, overlay === undefined ? {} : { overlay });
    },
  };
}
