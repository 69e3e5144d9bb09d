// The one place errors become replies: GatehouseError, Fastify's own validation and body-parsing
// errors, and anything unexpected (a 500 that reveals nothing) all leave as problem+json.
import type { FastifyBaseLogger, FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { GatehouseError, toProblem, type FieldError } from '../errors.js';
import { isTemporalUnavailable } from '../../temporal/unavailable.js';
import { temporalUnavailable } from '../temporal/unavailable.js';

const maxFieldErrors = 20;

/** Fastify's own error codes that the client caused, mapped to ours. */
function fromFastifyError(error: FastifyError): GatehouseError | undefined {
  if (error.validation !== undefined) {
    const part = (error.validationContext ?? 'body') as FieldError['in'];
    // The first few problems are enough to act on; a huge body must not become a huge answer.
    const errors: FieldError[] = error.validation.slice(0, maxFieldErrors).map((v) => ({
      in: part,
      pointer: pointerOf(v.instancePath, v.params),
      detail: (v.message ?? 'is not valid').slice(0, 200),
    }));
    const more = error.validation.length - errors.length;
    const detail = `The ${part} does not match the schema${more > 0 ? ` (${more} more problems not listed)` : ''}`;
    return new GatehouseError('GATEHOUSE_VALIDATION_FAILED', detail, { errors });
  }
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new GatehouseError('GATEHOUSE_BODY_TOO_LARGE', 'The body is larger than this route accepts');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new GatehouseError('GATEHOUSE_UNSUPPORTED_MEDIA_TYPE', 'Send the body as application/json');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new GatehouseError('GATEHOUSE_MALFORMED_BODY', 'The body is not valid JSON');
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new GatehouseError('GATEHOUSE_BAD_REQUEST', 'Content-Length does not match the body');
    default:
      break;
  }
  if (error instanceof SyntaxError || error.statusCode === 400) {
    return new GatehouseError('GATEHOUSE_MALFORMED_BODY', 'The body is not valid JSON');
  }
  return undefined;
}

/** Ajv reports a missing property at its parent; point at the property itself. */
function pointerOf(instancePath: string, params: Record<string, unknown>): string {
  const missing = params.missingProperty;
  const extra = params.additionalProperty;
  const name = typeof missing === 'string' ? missing : typeof extra === 'string' ? extra : undefined;
  if (name === undefined) return instancePath;
  return `${instancePath}/${name.replaceAll('~', '~0').replaceAll('/', '~1')}`;
}

export function toGatehouseError(error: unknown): GatehouseError | undefined {
  if (error instanceof GatehouseError) return error;
  if (isTemporalUnavailable(error)) return temporalUnavailable(error);
  if (error !== null && typeof error === 'object' && 'code' in error) return fromFastifyError(error as FastifyError);
  return undefined;
}

export function sendProblem(reply: FastifyReply, request: FastifyRequest, error: GatehouseError): FastifyReply {
  return reply
    .code(error.status)
    .headers(error.headers)
    .type('application/problem+json')
    .send(toProblem(error, request.id));
}

/**
 * The problem an error is answered with, logged as the error handler logs it: a failure of ours
 * or of Temporal's as a warning, anything unexpected as an error behind a 500 that reveals nothing.
 */
export function problemFor(error: unknown, log: FastifyBaseLogger): GatehouseError {
  const known = toGatehouseError(error);
  if (known !== undefined) {
    if (known.status >= 500) log.warn({ err: error, code: known.code }, known.message);
    return known;
  }
  log.error({ err: error }, 'unexpected error');
  return new GatehouseError('GATEHOUSE_INTERNAL', 'Something went wrong; the request id identifies it in the logs');
}

export function registerErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((error, request, reply) => sendProblem(reply, request, problemFor(error, request.log)));
  app.setNotFoundHandler((request, reply) =>
    sendProblem(
      reply,
      request,
      new GatehouseError('GATEHOUSE_NOT_FOUND', `No resource at ${request.method} ${request.url.split('?')[0]}`),
    ),
  );
}
