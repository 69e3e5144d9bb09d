// The Cedar policy engine from the files the config names: parsed and, with a schema, validated
// (policies in strict mode, entities too) once at start-up. `check-config` runs the same load.
import { readFileSync } from 'node:fs';
import type { EntityJson } from '@cedar-policy/cedar-wasm/nodejs';
import { createPolicyEngine, type PolicyEngine } from '../../activities/policy.js';
import { configPath, type GatehouseConfig } from '../config/load-config.js';

export function loadPolicyEngine(config: GatehouseConfig): PolicyEngine {
  const read = (path: string) => readFileSync(configPath(config, path), 'utf8');
  const entities =
    config.policy.entities === undefined ? [] : (JSON.parse(read(config.policy.entities)) as EntityJson[]);
  return createPolicyEngine(
    read(config.policy.policies),
    entities,
    config.policy.schema === undefined ? undefined : read(config.policy.schema),
  );
}
