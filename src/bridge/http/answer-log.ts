// The one log line of an answered request: what was asked, the answer's status and how long it
// took. Health probes (every second from every edge) are logged only when they fail.
import type { FastifyBaseLogger } from 'fastify';

/**
 * Written by the app's onResponse hook (src/bridge/app.ts), or by a reply taken over from Fastify
 * when it answers (src/bridge/http/taken-over-reply.ts).
 */
export function logAnswer(
  log: FastifyBaseLogger,
  request: { method: string; url: string },
  status: number,
  elapsedMs: number,
): void {
  if (status < 300 && (request.url === '/healthz' || request.url === '/readyz')) return;
  log.info({ method: request.method, url: request.url, status, ms: Math.round(elapsedMs * 10) / 10 }, 'answered');
}
