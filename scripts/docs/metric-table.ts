// Every gatehouse_* metric, read from the code that defines it, for docs/observability.md:
// - the bridge's, prom-client objects: `new Counter({ name, help, labelNames })` and its kin;
// - the worker's, made through Temporal's metric meter: `meter.createCounter(name, unit,
//   description).add(value, tags)` (and gauges, histograms), where the name and description may
//   come through a local helper's parameters and the tags from a local object;
// - prom-client's default process metrics, which the bridge registers under the same prefix.
// The sources are parsed (TypeScript's parser, no type checking), never run.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { collectDefaultMetrics, Registry } from 'prom-client';
import ts from 'typescript';
import { cell, code, table } from './markdown.js';

export interface MetricDefinition {
  name: string;
  type: 'counter' | 'gauge' | 'histogram' | 'summary';
  labels: string[];
  help: string;
  /** Where it is defined, relative to the repository. */
  file: string;
}

/** The folders whose code runs in the bridge or a worker (not the development tools). */
const sourceDirs = ['src', 'activities', 'workflows'];
const skipped = ['src/dev'];

/** The sources that may define metrics (those that spell `gatehouse_`), relative to `root`. */
export function metricSourceFiles(root = '.'): string[] {
  const files: string[] = [];
  const visit = (dir: string) => {
    if (skipped.includes(dir)) return;
    for (const entry of readdirSync(join(root, dir), { withFileTypes: true })) {
      const path = `${dir}/${entry.name}`;
      if (entry.isDirectory()) visit(path);
      // A file that never spells the prefix defines no metric: only those are parsed.
      else if (entry.name.endsWith('.ts') && readFileSync(join(root, path), 'utf8').includes('gatehouse_'))
        files.push(path);
    }
  };
  sourceDirs.forEach(visit);
  return files.sort();
}

const promClasses = { Counter: 'counter', Gauge: 'gauge', Histogram: 'histogram', Summary: 'summary' } as const;
/** Temporal's meter: where each method takes its description (the name is always first). */
const meterMethods = {
  createCounter: { type: 'counter', description: 2 },
  createGauge: { type: 'gauge', description: 3 },
  createHistogram: { type: 'histogram', description: 3 },
} as const;

const stringOf = (node: ts.Node | undefined) =>
  node !== undefined && (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) ? node.text : undefined;

function property(object: ts.ObjectLiteralExpression, name: string): ts.Expression | undefined {
  for (const member of object.properties)
    if (ts.isPropertyAssignment(member) && member.name.getText() === name) return member.initializer;
  return undefined;
}

/** The keys of an object literal, or of the one a local `const` names. */
function keysOf(node: ts.Expression | undefined, scope: ts.Node): string[] {
  if (node === undefined) return [];
  if (ts.isObjectLiteralExpression(node))
    return node.properties.flatMap((member) =>
      ts.isPropertyAssignment(member) || ts.isShorthandPropertyAssignment(member) ? [member.name.getText()] : [],
    );
  if (ts.isIdentifier(node)) {
    const declaration = findConst(node.text, scope);
    return declaration?.initializer === undefined ? [] : keysOf(declaration.initializer, scope);
  }
  return [];
}

/** The nearest `const <name> = …` visible from `from`. */
function findConst(name: string, from: ts.Node): ts.VariableDeclaration | undefined {
  for (let scope: ts.Node | undefined = from.parent; scope !== undefined; scope = scope.parent) {
    let found: ts.VariableDeclaration | undefined;
    scope.forEachChild(function look(child) {
      if (found !== undefined) return;
      if (ts.isVariableStatement(child))
        for (const declaration of child.declarationList.declarations)
          if (declaration.name.getText() === name) found = declaration;
    });
    if (found !== undefined) return found;
  }
  return undefined;
}

/**
 * The values an argument may take: a literal is itself; a parameter of a local helper
 * (`const count = (name, …) => meter.createCounter(name, …)`) is whatever each call of the
 * helper passes in its place.
 */
function valuesOf(argument: ts.Expression | undefined, file: ts.SourceFile): Array<string | undefined> {
  const literal = stringOf(argument);
  if (literal !== undefined || argument === undefined || !ts.isIdentifier(argument)) return [literal];
  for (let node: ts.Node | undefined = argument.parent; node !== undefined; node = node.parent) {
    if (!ts.isArrowFunction(node) && !ts.isFunctionExpression(node) && !ts.isFunctionDeclaration(node)) continue;
    const index = node.parameters.findIndex((parameter) => parameter.name.getText() === argument.text);
    if (index === -1) continue;
    const helper = ts.isVariableDeclaration(node.parent) ? node.parent.name.getText() : node.name?.getText();
    const calls: Array<string | undefined> = [];
    file.forEachChild(function visit(child) {
      if (ts.isCallExpression(child) && child.expression.getText() === helper)
        calls.push(stringOf(child.arguments[index]));
      child.forEachChild(visit);
    });
    return calls;
  }
  return [undefined];
}

/** The metrics one source file defines. */
export function definitionsIn(path: string, text: string): MetricDefinition[] {
  const file = ts.createSourceFile(path, text, ts.ScriptTarget.Latest, true);
  const found: MetricDefinition[] = [];
  const visit = (node: ts.Node) => {
    // prom-client: new Counter({ name: 'gatehouse_…', help, labelNames }).
    if (ts.isNewExpression(node) && ts.isIdentifier(node.expression) && node.expression.text in promClasses) {
      const [options] = node.arguments ?? [];
      const name =
        options !== undefined && ts.isObjectLiteralExpression(options)
          ? stringOf(property(options, 'name'))
          : undefined;
      if (name?.startsWith('gatehouse_')) {
        const labels = property(options as ts.ObjectLiteralExpression, 'labelNames');
        found.push({
          name,
          type: promClasses[node.expression.text as keyof typeof promClasses],
          labels:
            labels !== undefined && ts.isArrayLiteralExpression(labels)
              ? labels.elements.flatMap((e) => stringOf(e) ?? [])
              : [],
          help: stringOf(property(options as ts.ObjectLiteralExpression, 'help')) ?? '',
          file: path,
        });
      }
    }
    // Temporal's meter: meter.createCounter('gatehouse_…', unit, description).add(value, tags).
    if (ts.isCallExpression(node) && ts.isPropertyAccessExpression(node.expression)) {
      const method = meterMethods[node.expression.name.text as keyof typeof meterMethods];
      if (method !== undefined) {
        const names = valuesOf(node.arguments[0], file);
        const helps = valuesOf(node.arguments[method.description], file);
        const use = node.parent;
        const tags =
          ts.isPropertyAccessExpression(use) && ts.isCallExpression(use.parent) ? use.parent.arguments[1] : undefined;
        names.forEach((name, index) => {
          if (name?.startsWith('gatehouse_'))
            found.push({
              // The worker's Prometheus exporter adds _total to counters (countersTotalSuffix).
              name: method.type === 'counter' ? `${name}_total` : name,
              type: method.type,
              labels: keysOf(tags, node),
              help: helps[index] ?? helps[0] ?? '',
              file: path,
            });
        });
      }
    }
    node.forEachChild(visit);
  };
  visit(file);
  return found;
}

/** The metrics the code defines, one entry per name (a name defined twice must agree). */
export function metricDefinitions(root = '.'): MetricDefinition[] {
  const byName = new Map<string, MetricDefinition>();
  for (const path of metricSourceFiles(root)) {
    for (const definition of definitionsIn(path, readFileSync(join(root, path), 'utf8'))) {
      const known = byName.get(definition.name);
      if (known !== undefined && (known.type !== definition.type || known.help !== definition.help))
        throw new Error(`${definition.name} is defined twice, differently (${known.file}, ${definition.file})`);
      byName.set(definition.name, known ?? definition);
    }
  }
  return [...byName.values()].sort((a, b) => a.name.localeCompare(b.name));
}

/** prom-client's default metrics, as the bridge registers them (prefix gatehouse_). */
export function processMetrics(): MetricDefinition[] {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'gatehouse_' });
  return registry.getMetricsAsArray().map((metric) => {
    const { name, help, type, labelNames } = metric as unknown as {
      name: string;
      help: string;
      type: MetricDefinition['type'];
      labelNames: string[];
    };
    return { name, help, type, labels: [...labelNames], file: 'prom-client' };
  });
}

const rowOf = (metric: MetricDefinition, where = true) => [
  code(metric.name),
  metric.type,
  metric.labels.map(code).join(', '),
  cell(metric.help),
  ...(where ? [code(metric.file)] : []),
];

export function renderMetrics(root = '.'): string {
  const defined = metricDefinitions(root);
  const bridge = defined.filter((metric) => metric.file.startsWith('src/bridge/'));
  const worker = defined.filter((metric) => !metric.file.startsWith('src/bridge/'));
  return [
    '### The bridge (`GET /metrics` on `server.metricsListen`)',
    table(
      ['metric', 'type', 'labels', 'what', 'defined in'],
      bridge.map((metric) => rowOf(metric)),
    ),
    "And prom-client's default metrics of the process, under the same prefix:",
    table(
      ['metric', 'type', 'labels', 'what'],
      processMetrics().map((metric) => rowOf(metric, false)),
    ),
    '### A worker (`GET /metrics` on `GATEHOUSE_WORKER_METRICS_LISTEN`)',
    table(
      ['metric', 'type', 'labels', 'what', 'defined in'],
      worker.map((metric) => rowOf(metric)),
    ),
  ].join('\n\n');
}
