// Request bodies: JSON only (anything else is a 415), parsed by Fastify's own safe parser (it
// refuses __proto__ and constructor poisoning), with the SHA-256 of the raw bytes kept for the
// memo and for telling an idempotent replay from a key reused with another body.
import { createHash } from 'node:crypto';
import type { FastifyInstance } from 'fastify';

declare module 'fastify' {
  interface FastifyRequest {
    /** Hex SHA-256 of the raw request body as received; of the empty string when there was none. */
    bodySha256: string;
  }
}

const emptySha256 = createHash('sha256').digest('hex');

export function registerJsonBody(app: FastifyInstance): void {
  app.decorateRequest('bodySha256', emptySha256);
  app.removeAllContentTypeParsers();
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    const raw = body as Buffer;
    request.bodySha256 = createHash('sha256').update(raw).digest('hex');
    parseJson(request, raw.toString('utf8'), done);
  });
}
