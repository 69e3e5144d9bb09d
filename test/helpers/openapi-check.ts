// Checks what the fake GitHub answers against GitHub's own OpenAPI description (the copy in
// @octokit/openapi), so the fake cannot drift from the real API unnoticed. The description is
// 13 MB: it is read and parsed once per process, on first use (about 0.15 s), and only the schemas
// of the operations actually answered are resolved and compiled, each once.
//
// The description is OpenAPI 3.0: `nullable` instead of type unions, which Ajv understands, and
// `$ref`s into components, which are inlined here before compiling. For an error status that an
// operation does not list (the webhook-delivery operations list only 400 and 422, never 401, 403,
// 404 or 429), the body is checked against `basic-error`, the schema every one of GitHub's shared
// error responses uses.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { addFormats } from '../../src/config/body-validator.js';

type JsonObject = Record<string, unknown>;

interface Operation {
  path: string;
  method: string;
  documentationUrl: string;
  parameters: JsonObject[];
  responses: JsonObject;
}

let spec: JsonObject | undefined;
let operations: Map<string, Operation> | undefined;
const responseValidators = new Map<string, ValidateFunction | null>();
const parameterValidators = new Map<string, { path: ValidateFunction; query: ValidateFunction }>();
// Bodies are checked exactly as they would be sent; parameters arrive as text, so there "2" is 2.
const bodies = addFormats(new Ajv({ strict: false, allErrors: true }));
const texts = addFormats(new Ajv({ strict: false, allErrors: true, coerceTypes: true, useDefaults: true }));

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function loadSpec(): JsonObject {
  if (spec === undefined) {
    const file = createRequire(import.meta.url).resolve('@octokit/openapi/generated/api.github.com.json');
    spec = JSON.parse(readFileSync(file, 'utf8')) as JsonObject;
  }
  return spec;
}

function pointer(ref: string): unknown {
  if (!ref.startsWith('#/')) throw new Error(`openapi-check: external $ref ${ref}`);
  let node: unknown = loadSpec();
  for (const raw of ref.slice(2).split('/')) {
    const key = raw.replaceAll('~1', '/').replaceAll('~0', '~');
    if (!isObject(node) || !(key in node)) throw new Error(`openapi-check: dangling $ref ${ref}`);
    node = node[key];
  }
  return node;
}

/** A copy of `node` with every `$ref` replaced by what it points to. */
function inline(node: unknown, trail: string[] = []): unknown {
  if (Array.isArray(node)) return node.map((item) => inline(item, trail));
  if (!isObject(node)) return node;
  const ref = node.$ref;
  if (typeof ref === 'string') {
    // The schemas used here are not recursive; a cycle would mean inlining is the wrong approach.
    if (trail.includes(ref)) throw new Error(`openapi-check: recursive $ref ${ref}`);
    return inline(pointer(ref), [...trail, ref]);
  }
  return Object.fromEntries(Object.entries(node).map(([key, value]) => [key, inline(value, trail)]));
}

function operation(operationId: string): Operation {
  if (operations === undefined) {
    operations = new Map();
    const paths = loadSpec().paths;
    if (!isObject(paths)) throw new Error('openapi-check: the description has no paths');
    for (const [path, item] of Object.entries(paths)) {
      if (!isObject(item)) continue;
      for (const [method, op] of Object.entries(item)) {
        if (!isObject(op) || typeof op.operationId !== 'string') continue;
        operations.set(op.operationId, {
          path,
          method: method.toUpperCase(),
          documentationUrl:
            isObject(op.externalDocs) && typeof op.externalDocs.url === 'string'
              ? op.externalDocs.url
              : 'https://docs.github.com/rest',
          parameters: Array.isArray(op.parameters) ? (op.parameters as JsonObject[]) : [],
          responses: isObject(op.responses) ? op.responses : {},
        });
      }
    }
  }
  const found = operations.get(operationId);
  if (found === undefined) throw new Error(`openapi-check: no operation ${operationId}`);
  return found;
}

function problem(keyword: string, message: string): ErrorObject {
  return { keyword, instancePath: '', schemaPath: '#', params: {}, message };
}

function responseValidator(operationId: string, status: number): ValidateFunction | null | undefined {
  const key = `${operationId} ${status}`;
  if (responseValidators.has(key)) return responseValidators.get(key);
  let response = operation(operationId).responses[String(status)];
  if (response === undefined && status >= 400)
    response = { content: { 'application/json': { schema: { $ref: '#/components/schemas/basic-error' } } } };
  if (response === undefined) return undefined;
  const resolved = inline(response);
  const content = isObject(resolved) && isObject(resolved.content) ? resolved.content : {};
  const json = content['application/json'];
  const validator = isObject(json) && isObject(json.schema) ? bodies.compile(json.schema) : null;
  responseValidators.set(key, validator);
  return validator;
}

/**
 * The ways `body` differs from what GitHub's description says `operationId` answers with `status`:
 * an empty list when it matches. A status the operation does not describe (other than an error) is
 * itself a difference.
 */
export function checkGitHubResponse(operationId: string, status: number, body: unknown): ErrorObject[] {
  const validate = responseValidator(operationId, status);
  if (validate === undefined) return [problem('status', `${operationId} does not answer ${status}`)];
  if (validate === null)
    return body === undefined ? [] : [problem('content', `${operationId} answers ${status} without a body`)];
  return validate(body) ? [] : [...(validate.errors ?? [])];
}

export interface CheckedParameters {
  errors: Array<{ name: string; value: unknown; message: string }>;
  /** The values after the description's coercions and defaults (per_page "2" → 2, absent → 30). */
  path: Record<string, unknown>;
  query: Record<string, unknown>;
}

/** Checks path and query parameters against the schemas `operationId` declares for them. */
export function checkGitHubParameters(
  operationId: string,
  given: { path: Record<string, string>; query: Record<string, string> },
): CheckedParameters {
  let validators = parameterValidators.get(operationId);
  if (validators === undefined) {
    const parameters = operation(operationId).parameters.map((p) => inline(p) as JsonObject);
    const objectOf = (where: string) => {
      const own = parameters.filter((p) => p.in === where);
      return texts.compile({
        type: 'object',
        properties: Object.fromEntries(own.map((p) => [String(p.name), isObject(p.schema) ? p.schema : {}])),
        required: own.filter((p) => p.required === true).map((p) => String(p.name)),
      });
    };
    validators = { path: objectOf('path'), query: objectOf('query') };
    parameterValidators.set(operationId, validators);
  }
  const path: Record<string, unknown> = { ...given.path };
  const query: Record<string, unknown> = { ...given.query };
  const errors: CheckedParameters['errors'] = [];
  for (const [values, validate] of [
    [path, validators.path],
    [query, validators.query],
  ] as const) {
    if (validate(values)) continue;
    for (const error of validate.errors ?? []) {
      const name = error.instancePath.slice(1) || String(error.params.missingProperty ?? '');
      errors.push({ name, value: { ...given.path, ...given.query }[name], message: error.message ?? 'is invalid' });
    }
  }
  return { errors, path, query };
}

/** The operation's method, path template and documentation page, as GitHub's description gives them. */
export function gitHubOperation(operationId: string): { method: string; path: string; documentationUrl: string } {
  const { method, path, documentationUrl } = operation(operationId);
  return { method, path, documentationUrl };
}
