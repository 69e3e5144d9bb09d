// A route's input JSON Schema as a form, and a submitted form back as the JSON input: the fields
// the console's Start page shows, named by JSON Pointer, so the API's validation errors (which
// point into the input the same way) land beside the field they are about. Pure: no I/O.
//
// What becomes which field: an object with properties, a group of fields (its legend the property
// name); an `enum`, a choice; a boolean, a yes/no choice; a number or integer, a number field; a
// string, a text field; anything else (a free-form object, an array, a oneOf), a JSON text area.
// `$ref`s into the schema's own `$defs`/`definitions` are followed. Empty optional fields are left
// out of the input; a group left wholly empty too, so an optional object need not be filled.

type Schema = Record<string, unknown>;

interface FieldBase {
  /** JSON Pointer of the value in the input: also the form field's name. */
  pointer: string;
  label: string;
  description?: string;
  required: boolean;
}

export type FormField =
  | (FieldBase & { kind: 'group'; fields: FormField[] })
  | (FieldBase & { kind: 'text'; format?: string; maxLength?: number })
  | (FieldBase & { kind: 'number'; integer: boolean })
  | (FieldBase & { kind: 'choice'; options: Array<{ value: string; label: string }> })
  | (FieldBase & { kind: 'json' });

/** A field's problem, shaped as the API's `errors[]` entries. */
export interface FormError {
  pointer: string;
  detail: string;
}

/** Nested objects deeper than this become a JSON field: enough for any sane input, and no loop on a recursive $ref. */
const maxDepth = 6;

export function escapePointerToken(name: string): string {
  return name.replaceAll('~', '~0').replaceAll('/', '~1');
}

/** The fields of a route's input schema (an object schema: every route's input is one). */
export function formFields(schema: Schema): FormField[] {
  const root = resolve(schema, schema);
  return objectFields(root, schema, '', 0);
}

function objectFields(schema: Schema, root: Schema, pointer: string, depth: number): FormField[] {
  const properties = (schema.properties ?? {}) as Record<string, Schema>;
  const required = new Set(Array.isArray(schema.required) ? (schema.required as string[]) : []);
  return Object.entries(properties).map(([name, property]) =>
    field(resolve(property, root), root, `${pointer}/${escapePointerToken(name)}`, name, required.has(name), depth),
  );
}

function field(schema: Schema, root: Schema, pointer: string, name: string, required: boolean, depth: number) {
  const base: FieldBase = {
    pointer,
    label: name,
    required,
    ...(typeof schema.description === 'string' ? { description: schema.description } : {}),
  };
  if (Array.isArray(schema.enum)) {
    return { ...base, kind: 'choice', options: schema.enum.map(option) } satisfies FormField;
  }
  if (schema.type === 'boolean') {
    return { ...base, kind: 'choice', options: [true, false].map(option) } satisfies FormField;
  }
  if (schema.type === 'integer' || schema.type === 'number') {
    return { ...base, kind: 'number', integer: schema.type === 'integer' } satisfies FormField;
  }
  if (schema.type === 'string') {
    return {
      ...base,
      kind: 'text',
      ...(typeof schema.format === 'string' ? { format: schema.format } : {}),
      ...(typeof schema.maxLength === 'number' ? { maxLength: schema.maxLength } : {}),
    } satisfies FormField;
  }
  const hasProperties = typeof schema.properties === 'object' && schema.properties !== null;
  if (schema.type === 'object' && hasProperties && depth < maxDepth) {
    return { ...base, kind: 'group', fields: objectFields(schema, root, pointer, depth + 1) } satisfies FormField;
  }
  return { ...base, kind: 'json' } satisfies FormField;
}

/** An enum value as a form option: its JSON as the value, so numbers and booleans come back typed. */
function option(value: unknown): { value: string; label: string } {
  return { value: JSON.stringify(value), label: typeof value === 'string' ? value : JSON.stringify(value) };
}

/** Follows local `$ref`s (`#/$defs/…`, `#/definitions/…`), at most a few deep; anything else is kept as is. */
function resolve(schema: Schema, root: Schema): Schema {
  let current = schema;
  for (let hops = 0; hops < 8 && typeof current.$ref === 'string'; hops++) {
    const match = /^#\/(\$defs|definitions)\/([^/]+)$/.exec(current.$ref);
    const target = match === null ? undefined : (root[match[1]!] as Record<string, Schema> | undefined)?.[match[2]!];
    if (target === undefined) return current;
    const { $ref: _ref, ...rest } = current;
    current = { ...target, ...rest };
  }
  return current;
}

/**
 * The input a submitted form stands for, and the fields that could not be read (a JSON text that
 * is not JSON). Values are sent as typed, never coerced beyond what the field says: a number field
 * that holds no number goes as the text it holds, and the API's schema check says what is wrong.
 */
export function readForm(
  fields: FormField[],
  form: ReadonlyMap<string, string>,
): { input: Record<string, unknown>; errors: FormError[] } {
  const errors: FormError[] = [];
  const input = readGroup(fields, form, errors) ?? {};
  return { input, errors };
}

function readGroup(
  fields: FormField[],
  form: ReadonlyMap<string, string>,
  errors: FormError[],
): Record<string, unknown> | undefined {
  const value: Record<string, unknown> = {};
  for (const f of fields) {
    const name = decodeLastToken(f.pointer);
    const read = f.kind === 'group' ? readGroup(f.fields, form, errors) : readValue(f, form.get(f.pointer), errors);
    if (read !== undefined) value[name] = read;
  }
  return Object.keys(value).length === 0 ? undefined : value;
}

function readValue(f: Exclude<FormField, { kind: 'group' }>, raw: string | undefined, errors: FormError[]): unknown {
  const text = raw?.trim() ?? '';
  if (text === '') return undefined;
  switch (f.kind) {
    case 'text':
      // Text is sent as typed; only the surrounding whitespace a browser field picks up is dropped.
      return raw!.trim();
    case 'number': {
      const number = Number(text);
      return Number.isFinite(number) ? number : text;
    }
    case 'choice':
    case 'json':
      try {
        return JSON.parse(text) as unknown;
      } catch {
        if (f.kind === 'choice') return text;
        errors.push({ pointer: f.pointer, detail: 'must be valid JSON' });
        return undefined;
      }
  }
}

function decodeLastToken(pointer: string): string {
  return pointer
    .slice(pointer.lastIndexOf('/') + 1)
    .replaceAll('~1', '/')
    .replaceAll('~0', '~');
}

/** Where an error shows: the field it points at, else its nearest enclosing field; undefined for the whole form. */
export function fieldFor(fields: FormField[], pointer: string): FormField | undefined {
  for (const f of fields) {
    if (f.pointer === pointer) return f;
    if (pointer.startsWith(`${f.pointer}/`)) return (f.kind === 'group' ? fieldFor(f.fields, pointer) : undefined) ?? f;
  }
  return undefined;
}

/** The form's values to show again after a refusal: what was typed, by field name. */
export function formValues(entries: Iterable<[string, string]>): Map<string, string> {
  const values = new Map<string, string>();
  for (const [name, value] of entries) if (name.startsWith('/')) values.set(name, value);
  return values;
}
