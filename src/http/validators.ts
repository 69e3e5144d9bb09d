// Two validators, on purpose. Bodies are job inputs: validated exactly as sent, never coerced,
// defaulted or stripped, because the workflow must receive what the client signed off on. Query
// strings and params are text by nature, so there "1" may become 1.
import { Ajv2020 } from 'ajv/dist/2020.js';
import { Ajv } from 'ajv';
import addFormatsPlugin from 'ajv-formats';
import type { FastifyInstance } from 'fastify';

// ajv-formats is CommonJS with a default export; under NodeNext the callable is one level down.
const addFormats = addFormatsPlugin as unknown as typeof addFormatsPlugin.default;

export function registerValidators(app: FastifyInstance): void {
  const bodies = addFormats(new Ajv2020({ allErrors: true, strict: false, coerceTypes: false, useDefaults: false, removeAdditional: false }));
  const textParts = addFormats(new Ajv({ allErrors: true, strict: false, coerceTypes: 'array', useDefaults: true, removeAdditional: false }));
  app.setValidatorCompiler(({ schema, httpPart }) =>
    httpPart === 'body' ? bodies.compile(schema) : textParts.compile(schema),
  );
}
