// The configuration reference in docs/configuration.md: every key of gatehouse.yaml with its
// value, its default and its description, walked from the TypeBox schema (plain JSON Schema
// objects), and every environment override from the loader's table. Nothing here is written by
// hand, so the page cannot disagree with what the loader does.
import {
  envOverrides,
  listOverrides,
  pathOverrides,
  secretOverrides,
  switchOverrides,
} from '../../src/config/load-config.js';
import { ConfigSchema } from '../../src/config/schema.js';
import { providerNames } from '../../src/providers/registry.js';
import { cell, code, table } from './markdown.js';

interface SchemaNode {
  type?: string;
  title?: string;
  description?: string;
  default?: unknown;
  const?: unknown;
  pattern?: string;
  minimum?: number;
  maximum?: number;
  required?: string[];
  properties?: Record<string, SchemaNode>;
  patternProperties?: Record<string, SchemaNode>;
  items?: SchemaNode;
  anyOf?: SchemaNode[];
}

export interface ConfigKey {
  /** Dotted path; `<route>`-style placeholders for map keys, `[]` for list items. */
  key: string;
  /** Which form of a union it belongs to (the form's title), when there are several. */
  form?: string;
  value: string;
  default?: unknown;
  required: boolean;
  description?: string;
}

const root = ConfigSchema as unknown as SchemaNode;
const durationPattern = '^[0-9]+(ms|s|m|h|d)$';
/** What a map key stands for, by the map's path; other maps say `<name>`. */
const mapKeyNames: Record<string, string> = { routes: '<route>', 'webhooks.<provider>': '<hook>' };

const isSecretRef = (node: SchemaNode) =>
  node.anyOf?.length === 2 &&
  node.anyOf.every((form) => Object.keys(form.properties ?? {}).length === 1) &&
  node.anyOf.some((form) => form.properties?.env !== undefined) &&
  node.anyOf.some((form) => form.properties?.file !== undefined);
const isLiteralUnion = (node: SchemaNode) => node.anyOf?.every((form) => form.const !== undefined) === true;
const isSection = (node: SchemaNode) => node.properties !== undefined;

/** What a value looks like, in a few words. */
function valueOf(node: SchemaNode): string {
  if (isSecretRef(node)) return 'secret: `{ env }` or `{ file }`';
  if (isLiteralUnion(node)) return node.anyOf!.map((form) => code(String(form.const))).join(' or ');
  if (node.anyOf !== undefined) return `one of: ${node.anyOf.map((form) => form.title ?? '?').join(', ')}`;
  if (node.type === 'string') return node.pattern === durationPattern ? 'duration' : 'string';
  if (node.type === 'integer' || node.type === 'number') {
    const { minimum: min, maximum: max } = node;
    if (min !== undefined && max !== undefined) return `${node.type}, ${min} to ${max}`;
    if (min !== undefined) return `${node.type} ≥ ${min}`;
    return max === undefined ? node.type : `${node.type} ≤ ${max}`;
  }
  if (node.type === 'boolean') return 'boolean';
  if (node.type === 'array')
    return node.items !== undefined && isSection(node.items) ? 'list' : `list of ${valueOf(node.items ?? {})}`;
  if (node.patternProperties !== undefined) {
    const [values] = Object.values(node.patternProperties);
    return values === undefined || Object.keys(values).length === 0 ? 'object' : `map of ${valueOf(values)}`;
  }
  if (isSection(node)) return 'section';
  return 'any';
}

/**
 * The sections' keys; when every registered provider has an entry and the entries are the same
 * schema, they are one `<provider>` key.
 */
function childrenOf(node: SchemaNode): Array<[string, SchemaNode]> {
  const entries = Object.entries(node.properties ?? {});
  const perProvider = entries.filter(([name]) => (providerNames as readonly string[]).includes(name));
  const same = perProvider.every(([, child]) => JSON.stringify(child) === JSON.stringify(perProvider[0]?.[1]));
  if (perProvider.length !== providerNames.length || !same) return entries;
  const at = entries.findIndex(([name]) => name === perProvider[0]![0]);
  const rest = entries.filter(([name]) => !(providerNames as readonly string[]).includes(name));
  return [...rest.slice(0, at), ['<provider>', perProvider[0]![1]], ...rest.slice(at)];
}

function walk(node: SchemaNode, key: string, required: boolean, form: string | undefined, out: ConfigKey[]): void {
  const row = (value: string): void => {
    out.push({
      key,
      ...(form === undefined ? {} : { form }),
      value,
      ...(node.default === undefined || isSection(node) ? {} : { default: node.default }),
      required: required && node.default === undefined,
      ...(node.description === undefined ? {} : { description: node.description }),
    });
  };
  if (isSecretRef(node) || isLiteralUnion(node)) return row(valueOf(node));
  if (node.anyOf !== undefined) {
    row(valueOf(node));
    for (const variant of node.anyOf) walkSection(variant, key, variant.title, out);
    return;
  }
  if (isSection(node)) {
    // A section is a row of its own when there is something to say about it: what it is for,
    // or that leaving it out means something.
    if (node.description !== undefined || (!required && node.default === undefined)) row('section');
    return walkSection(node, key, form, out);
  }
  if (node.type === 'array' && node.items !== undefined && isSection(node.items)) {
    row('list');
    return walkSection(node.items, `${key}[]`, form, out);
  }
  const [values] = Object.values(node.patternProperties ?? {});
  if (values !== undefined && (isSection(values) || values.patternProperties !== undefined)) {
    if (node.description !== undefined) row('map');
    const placeholder = mapKeyNames[key] ?? '<name>';
    return walk(values, `${key}.${placeholder}`, true, form, out);
  }
  row(valueOf(node));
}

function walkSection(node: SchemaNode, prefix: string, form: string | undefined, out: ConfigKey[]): void {
  for (const [name, child] of childrenOf(node)) {
    const key = prefix === '' ? name : `${prefix}.${name}`;
    walk(child, key, node.required?.includes(name) ?? false, form, out);
  }
}

/** Every key of the config file, in the schema's order. */
export function configKeys(): ConfigKey[] {
  const out: ConfigKey[] = [];
  walkSection(root, '', undefined, out);
  return out;
}

/** Keys the schema does not describe (`npm run docs` refuses them: a reader would get a bare name). */
export function undescribedKeys(): string[] {
  return configKeys()
    .filter((entry) => entry.description === undefined)
    .map((entry) => (entry.form === undefined ? entry.key : `${entry.key} (${entry.form})`));
}

/** A default as a YAML reader would write it. */
export function formatDefault(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((item) => formatDefault(item)).join(', ')}]`;
  if (value !== null && typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/** The schema node at a dotted path of plain section keys. */
function nodeAt(path: readonly string[]): SchemaNode | undefined {
  return path.reduce<SchemaNode | undefined>((node, name) => node?.properties?.[name], root);
}

/** The environment overrides: which key each sets and what its value is. */
export function renderEnvironment(): string {
  const rows = envOverrides.map(([name, path]) => {
    const node = nodeAt(path);
    const notes = [node?.description ?? ''];
    if (switchOverrides.has(name)) notes.push('`true` turns it on, `false` off even when the file has it');
    if (listOverrides.has(name)) notes.push('comma-separated');
    if (pathOverrides.has(name)) notes.push('a path relative to the working directory (in the file: to the file)');
    if (secretOverrides.has(name)) notes.push(`the value itself; the config gets \`{ env: ${name} }\``);
    return [code(name), code(path.join('.')), cell(notes.filter(Boolean).join('; '))];
  });
  return table(['variable', 'sets', 'meaning'], rows);
}

/** One table per top-level key of the file. */
export function renderKeys(): string {
  const sections = new Map<string, ConfigKey[]>();
  for (const entry of configKeys()) {
    const top = entry.key.split(/[.[]/)[0]!;
    sections.set(top, [...(sections.get(top) ?? []), entry]);
  }
  const legend =
    `\`<provider>\` is one of ${providerNames.map(code).join(', ')}. \`<route>\`, \`<hook>\` and \`<name>\` are names: ` +
    'lower-case letters, digits and dashes, starting with a letter, at most 63 characters. `[]` stands for each entry ' +
    'of a list. A duration is a number and a unit: `ms`, `s`, `m`, `h` or `d` (`30s`, `10m`, `14d`).';
  const tables = [...sections]
    .map(([top, entries]) => {
      const rows = entries.map((entry) => [
        code(entry.key) + (entry.form === undefined ? '' : ` (${entry.form})`),
        cell(entry.value),
        entry.default !== undefined ? code(formatDefault(entry.default)) : entry.required ? 'required' : '',
        cell(entry.description ?? ''),
      ]);
      return `### ${top}\n\n${table(['key', 'value', 'default', 'meaning'], rows)}`;
    })
    .join('\n\n');
  return `${legend}\n\n${tables}`;
}
