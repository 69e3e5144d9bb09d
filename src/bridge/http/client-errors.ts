// Requests Node's HTTP parser refuses before Fastify sees them (headers over the limit, a request
// that took longer than `server.requestTimeout`, bytes that are not HTTP) still get a
// problem+json answer with a stable code, like every other error.
import type { Socket } from 'node:net';
import { problemType, type ErrorCode } from '../errors.js';
import { errorDefinitions } from '../errors.js';

function answer(code: ErrorCode, detail: string): string {
  const { status, title } = errorDefinitions[code];
  const body = JSON.stringify({ type: problemType(code), title, status, detail, code });
  return [
    `HTTP/1.1 ${status} ${title}`,
    'Content-Type: application/problem+json',
    `Content-Length: ${Buffer.byteLength(body)}`,
    'Connection: close',
    '',
    body,
  ].join('\r\n');
}

export function clientErrorHandler(error: Error & { code?: string }, socket: Socket): void {
  // A reset connection has nobody left to answer.
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const reply =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? answer('GATEHOUSE_HEADERS_TOO_LARGE', 'The request headers are larger than this service accepts')
      : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? answer('GATEHOUSE_REQUEST_TIMEOUT', 'The request was not received in time')
        : answer('GATEHOUSE_BAD_REQUEST', 'The request could not be read');
  if (socket.writable) socket.end(reply);
  else socket.destroy();
}
