// What the served OpenAPI document is made of, apart from the plugin that serves it: route input
// schemas made valid inside the document, and each caller's view of it.
//
// - A route's input schema is a JSON Schema of its own (config/gatehouse.yaml): its `#/$defs/...`
//   refs point into itself. Inside the OpenAPI document `#` is the document, so every definition
//   is hoisted into `components/schemas` under a name unique to its operation
//   (`start-policy-check.entity`) and the refs are rewritten to it. A ref to any other place in the
//   schema (`#/properties/...`) is kept working by hoisting the whole schema the same way.
// - Each caller sees the operations it may use: a route with an access rule when the rule lets it
//   in, the rest of the jobs API and health to everyone authenticated, and everything else (the
//   webhook intake, whose paths name every hook, and the delivery log) to admins only. A route
//   added later without a tag this file knows is for admins until someone says otherwise.
import { isAdmin, mayCallRoute, type AccessRules, type Caller, type RouteAccess } from '../../core/access.js';

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const methods = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;
/** Tags whose operations every authenticated caller may see. */
const everyoneTags = new Set(['jobs', 'health']);

/** A copy of `node` with every `$ref` that `rewrite` maps replaced. */
function rewriteRefs(node: unknown, rewrite: (ref: string) => string | undefined): unknown {
  if (Array.isArray(node)) return node.map((item) => rewriteRefs(item, rewrite));
  if (!isObject(node)) return node;
  const copy: Json = {};
  for (const [key, value] of Object.entries(node)) {
    const replaced = key === '$ref' && typeof value === 'string' ? rewrite(value) : undefined;
    copy[key] = replaced ?? rewriteRefs(value, rewrite);
  }
  return copy;
}

function hasLocalRef(node: unknown): boolean {
  if (Array.isArray(node)) return node.some(hasLocalRef);
  if (!isObject(node)) return false;
  return Object.entries(node).some(([key, value]) =>
    key === '$ref' ? typeof value === 'string' && value.startsWith('#') : hasLocalRef(value),
  );
}

/** A components/schemas name: OpenAPI allows `[A-Za-z0-9._-]`, and it must not be taken. */
function uniqueName(wanted: string, taken: Json): string {
  const base = wanted.replace(/[^A-Za-z0-9._-]/g, '_');
  let name = base;
  for (let n = 2; Object.hasOwn(taken, name); n += 1) name = `${base}_${n}`;
  return name;
}

/**
 * One operation's schema with its definitions moved into `components`: the schema to put in its
 * place. `prefix` names what is hoisted (the operation id).
 */
function hoistSchema(schema: Json, prefix: string, components: Json): Json {
  const definitionKeys = ['$defs', 'definitions'].filter((key) => isObject(schema[key]));
  if (definitionKeys.length === 0 && !hasLocalRef(schema)) return schema;
  const names = new Map<string, string>();
  for (const key of definitionKeys) {
    for (const name of Object.keys(schema[key] as Json)) {
      names.set(`#/${key}/${name}`, uniqueName(`${prefix}.${name}`, components));
      components[names.get(`#/${key}/${name}`)!] = {}; // reserved; filled below
    }
  }
  const rest: Json = { ...schema };
  for (const key of definitionKeys) delete rest[key];
  // The whole schema is hoisted too only when something refers into it other than a definition.
  let rootName: string | undefined;
  const rewrite = (ref: string): string | undefined => {
    if (!ref.startsWith('#')) return undefined;
    for (const [from, to] of names) {
      if (ref === from || ref.startsWith(`${from}/`)) return `#/components/schemas/${to}${ref.slice(from.length)}`;
    }
    rootName ??= uniqueName(`${prefix}.body`, components);
    components[rootName] ??= {};
    return `#/components/schemas/${rootName}${ref.slice(1)}`;
  };
  for (const key of definitionKeys) {
    for (const [name, definition] of Object.entries(schema[key] as Json))
      components[names.get(`#/${key}/${name}`)!] = rewriteRefs(definition, rewrite);
  }
  const rewritten = rewriteRefs(rest, rewrite) as Json;
  if (rootName === undefined) return rewritten;
  components[rootName] = rewritten;
  return { $ref: `#/components/schemas/${rootName}` };
}

/** Every schema an operation holds at its top: request body, parameters, responses. */
function operationSchemas(operation: Json): Array<{ holder: Json; key: 'schema' }> {
  const holders: Json[] = [];
  const contents = (owner: unknown) => {
    if (!isObject(owner) || !isObject(owner.content)) return;
    for (const media of Object.values(owner.content)) if (isObject(media)) holders.push(media);
  };
  contents(operation.requestBody);
  if (Array.isArray(operation.parameters)) for (const p of operation.parameters) if (isObject(p)) holders.push(p);
  if (isObject(operation.responses)) for (const response of Object.values(operation.responses)) contents(response);
  return holders.filter((holder) => isObject(holder.schema)).map((holder) => ({ holder, key: 'schema' as const }));
}

/** The document with every operation's schema definitions hoisted into components (in place). */
export function hoistDefinitions<T extends object>(document: T): T {
  const doc = document as Json;
  const components = (isObject(doc.components) ? doc.components : (doc.components = {})) as Json;
  const schemas = (isObject(components.schemas) ? components.schemas : (components.schemas = {})) as Json;
  for (const [path, item] of Object.entries(isObject(doc.paths) ? doc.paths : {})) {
    if (!isObject(item)) continue;
    for (const method of methods) {
      const operation = item[method];
      if (!isObject(operation)) continue;
      const prefix = typeof operation.operationId === 'string' ? operation.operationId : `${method} ${path}`;
      for (const { holder, key } of operationSchemas(operation))
        holder[key] = hoistSchema(holder[key] as Json, prefix, schemas);
    }
  }
  return document;
}

/** Who may see each operation, by operation id: the route's access rule, where it has one. */
export type OperationAccess = ReadonlyMap<string, RouteAccess>;

/** Whether `caller` may see `operation` (see the header). */
function mayDescribe(caller: Caller, operation: Json, access: OperationAccess, rules: AccessRules): boolean {
  if (isAdmin(caller, rules)) return true;
  const rule = typeof operation.operationId === 'string' ? access.get(operation.operationId) : undefined;
  if (rule !== undefined) return mayCallRoute(caller, rule, rules);
  const tags = Array.isArray(operation.tags) ? operation.tags : [];
  return tags.length > 0 && tags.every((tag) => everyoneTags.has(String(tag)));
}

/**
 * The part of `document` that `caller` may see: the operations it may use, and the components
 * they refer to. `document` is not changed.
 */
export function documentFor<T extends object>(
  document: T,
  caller: Caller,
  access: OperationAccess,
  rules: AccessRules,
): T {
  const doc = document as Json;
  const paths: Json = {};
  for (const [path, item] of Object.entries(isObject(doc.paths) ? doc.paths : {})) {
    if (!isObject(item)) continue;
    const kept = Object.fromEntries(
      Object.entries(item).filter(
        ([key, value]) =>
          !(methods as readonly string[]).includes(key) ||
          (isObject(value) && mayDescribe(caller, value, access, rules)),
      ),
    );
    if (methods.some((method) => method in kept)) paths[path] = kept;
  }
  const components = isObject(doc.components) ? doc.components : {};
  const schemas = isObject(components.schemas) ? components.schemas : {};
  const used = new Set<string>();
  const collect = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(collect);
    if (!isObject(node)) return;
    for (const [key, value] of Object.entries(node)) {
      const match = key === '$ref' && typeof value === 'string' ? /^#\/components\/schemas\/([^/]+)/.exec(value) : null;
      if (match !== null && !used.has(match[1]!)) {
        used.add(match[1]!);
        collect(schemas[match[1]!]);
      } else collect(value);
    }
  };
  collect(paths);
  const keptSchemas = Object.fromEntries(Object.entries(schemas).filter(([name]) => used.has(name)));
  return { ...doc, paths, components: { ...components, schemas: keptSchemas } } as T;
}
