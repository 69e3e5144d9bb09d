// The JSON Schema dialect of job inputs (draft 2020-12 with formats), in one place: the config check
// compiles every route's input with it, and the bridge validates request bodies with it. Bodies are
// validated exactly as sent: never coerced, defaulted or stripped, because the workflow must
// receive what the client signed off on.
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsPlugin from 'ajv-formats';

// ajv-formats is CommonJS with a default export; under NodeNext the callable is one level down.
export const addFormats = addFormatsPlugin as unknown as typeof addFormatsPlugin.default;

export function createBodyValidator(): Ajv2020 {
  return addFormats(
    new Ajv2020({ allErrors: true, strict: false, coerceTypes: false, useDefaults: false, removeAdditional: false }),
  );
}
