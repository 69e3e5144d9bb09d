// The generated parts of the docs say what the code says now. Each page is rendered in memory, as
// `npm run docs` would write it, and compared with the file; the renderers are checked against
// independent readings of the same sources (every default the schema holds, every override the
// loader applies, every metric name the code spells), so a renderer that skips something fails
// here rather than leaving it out of the docs.
import { readFileSync } from 'node:fs';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { envOverrides } from '../../../src/config/load-config.js';
import { ConfigSchema } from '../../../src/config/schema.js';
import { providerNames } from '../../../src/providers/registry.js';
import { configKeys, formatDefault, undescribedKeys } from '../../../scripts/docs/config-reference.js';
import { renderPages } from '../../../scripts/docs/generated-docs.js';
import { definitionsIn, metricDefinitions, metricSourceFiles } from '../../../scripts/docs/metric-table.js';

describe('the generated docs', () => {
  for (const [page, text] of renderPages()) {
    it(`${page} is what npm run docs writes from the code`, () => {
      // On failure: run `npm run docs` and commit the page.
      expect(readFileSync(page, 'utf8')).toBe(text);
    });
  }

  it('describe every config key (npm run docs refuses one without a description)', () => {
    expect(undescribedKeys()).toEqual([]);
  });

  it('cover every environment override', () => {
    const page = readFileSync('docs/configuration.md', 'utf8');
    for (const [name, path] of envOverrides) expect(page, name).toContain(`| \`${name}\` | \`${path.join('.')}\` |`);
  });

  it('cover every default in the schema, as the schema sets it', () => {
    // Every node with a default, found by a plain walk over the JSON Schema (map keys and
    // provider names made alike), must be a key of the reference with that default.
    type Node = { default?: unknown; properties?: Record<string, Node>; patternProperties?: Record<string, Node> };
    type Extra = { items?: Node; anyOf?: Node[] };
    const found: Array<[string, unknown]> = [];
    const visit = (node: Node & Extra, path: string) => {
      const isSection = node.properties !== undefined || node.patternProperties !== undefined;
      if (node.default !== undefined && !isSection) found.push([path, node.default]);
      for (const [name, child] of Object.entries(node.properties ?? {})) visit(child, path ? `${path}.${name}` : name);
      for (const child of Object.values(node.patternProperties ?? {})) visit(child, `${path}.*`);
      if (node.items !== undefined) visit(node.items, `${path}[]`);
      for (const form of node.anyOf ?? []) visit(form, path);
    };
    visit(ConfigSchema as unknown as Node, '');
    const normal = (key: string) =>
      key
        .split('.')
        .map((part) => (part.startsWith('<') || (providerNames as readonly string[]).includes(part) ? '*' : part))
        .join('.');
    const documented = configKeys().map((entry) => [normal(entry.key), entry.default] as const);
    expect(found.length).toBeGreaterThan(60);
    for (const [path, value] of found) {
      const rows = documented.filter(([key]) => key === normal(path));
      expect(rows.length, path).toBeGreaterThan(0);
      expect(
        rows.map(([, shown]) => formatDefault(shown)),
        path,
      ).toContain(formatDefault(value));
    }
  });
});

describe('the metric list', () => {
  it('reads prom-client definitions and Temporal meter calls, through a local helper too', () => {
    const source = `
      const a = new Counter({ name: 'gatehouse_a_total', help: 'As', labelNames: ['x', 'y'], registers: [r] });
      new Gauge({ name: 'other_b', help: 'not ours' });
      function report(meter, input) {
        const tags = { provider: input.provider, hook: input.hook };
        const count = (name, value, description) => meter.createCounter(name, 'n', description).add(value, tags);
        count('gatehouse_c', 1, 'Cs');
        count('gatehouse_d', 2, 'Ds');
        meter.createGauge('gatehouse_e', 'int', 'state', 'Es').set(1, { kind: 'k' });
      }`;
    expect(definitionsIn('x.ts', source)).toEqual([
      { name: 'gatehouse_a_total', type: 'counter', labels: ['x', 'y'], help: 'As', file: 'x.ts' },
      { name: 'gatehouse_c_total', type: 'counter', labels: ['provider', 'hook'], help: 'Cs', file: 'x.ts' },
      { name: 'gatehouse_d_total', type: 'counter', labels: ['provider', 'hook'], help: 'Ds', file: 'x.ts' },
      { name: 'gatehouse_e', type: 'gauge', labels: ['kind'], help: 'Es', file: 'x.ts' },
    ]);
  });

  it('has every gatehouse_* name the code spells, so no metric is defined where the reader does not look', () => {
    const names = new Set(metricDefinitions().flatMap(({ name }) => [name, name.replace(/_total$/, '')]));
    const spelled: string[] = [];
    for (const path of metricSourceFiles()) {
      const file = ts.createSourceFile(path, readFileSync(path, 'utf8'), ts.ScriptTarget.Latest, true);
      file.forEachChild(function visit(node) {
        if (ts.isStringLiteralLike(node) && /^gatehouse_[a-z0-9_]+$/.test(node.text)) spelled.push(node.text);
        node.forEachChild(visit);
      });
    }
    expect(spelled.length).toBeGreaterThan(15);
    expect(spelled.filter((name) => !names.has(name))).toEqual([]);
  });
});
