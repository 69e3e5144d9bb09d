// Defaults live in the config schema and nowhere else; the README's configuration table repeats
// them for readers, so this keeps each documented default equal to the schema's.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ConfigSchema } from '../../../src/config/schema.js';

type Node = { default?: unknown; properties?: Record<string, Node> };

function schemaDefault(path: string): unknown {
  let node: Node | undefined = ConfigSchema as unknown as Node;
  for (const key of path.split('.')) node = node?.properties?.[key];
  return node?.default;
}

const plain = (value: unknown) => (Array.isArray(value) ? `[${value.join(', ')}]` : String(value));

describe('README configuration table', () => {
  it('documents each default exactly as the schema sets it', () => {
    const readme = readFileSync('README.md', 'utf8');
    const rows = [...readme.matchAll(/^\| `([a-zA-Z.]+)` \| `([^`]+)` \|/gm)];
    expect(rows.length).toBeGreaterThan(10);
    for (const [, key, documented] of rows) {
      expect(plain(schemaDefault(key!)), key).toBe(documented);
    }
  });
});
