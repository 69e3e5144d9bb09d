// Two validators, on purpose. Bodies are job inputs, validated in the config's dialect exactly as
// sent (src/config/body-validator.ts). Query strings and params are text by nature, so there "1"
// may become 1.
import { Ajv } from 'ajv';
import type { FastifyInstance } from 'fastify';
import { addFormats, createBodyValidator } from '../../config/body-validator.js';

export function registerValidators(app: FastifyInstance): void {
  const bodies = createBodyValidator();
  const textParts = addFormats(
    new Ajv({ allErrors: true, strict: false, coerceTypes: 'array', useDefaults: true, removeAdditional: false }),
  );
  app.setValidatorCompiler(({ schema, httpPart }) =>
    httpPart === 'body' ? bodies.compile(schema) : textParts.compile(schema),
  );
}
