// The two tables of what can go wrong, from the registries that decide it: the API's problem codes
// (src/bridge/errors.ts) and the worker's failure types, a job's `failure.type` (src/core/failures.ts).
import { errorDefinitions } from '../../src/bridge/errors.js';
import { failureTypes } from '../../src/core/failures.js';
import { cell, code, table } from './markdown.js';

export function renderErrorTable(): string {
  const rows = Object.entries(errorDefinitions).map(([name, definition]) => [
    code(name),
    String(definition.status),
    cell(definition.doc),
  ]);
  return table(['code', 'status', 'when'], rows);
}

export function renderFailureTable(): string {
  const rows = Object.entries(failureTypes).map(([name, definition]) => [
    code(name),
    definition.retryable ? 'yes' : 'no',
    cell(definition.doc),
  ]);
  return table(['type', 'retried', 'when'], rows);
}
