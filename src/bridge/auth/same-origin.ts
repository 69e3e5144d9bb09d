// CSRF for cookie-authenticated requests: a browser attaches cookies to requests other sites make,
// so an unsafe method (anything but GET, HEAD, OPTIONS) with a session cookie must say it came from
// Gatehouse's own origin: `Sec-Fetch-Site: same-origin` where the browser sends it (every current
// one does), else an `Origin` equal to signIn.publicUrl. SameSite=Lax already keeps the cookie off
// cross-site POSTs in current browsers; this holds where it does not. The edge checks the same.
import type { FastifyRequest } from 'fastify';
import { GatehouseError } from '../errors.js';

const safeMethods = new Set(['GET', 'HEAD', 'OPTIONS']);

export function requireSameOrigin(request: FastifyRequest, origin: string): void {
  if (safeMethods.has(request.method)) return;
  const site = request.headers['sec-fetch-site'];
  const sameOrigin = site === undefined ? request.headers.origin === origin : site === 'same-origin';
  if (!sameOrigin) {
    throw new GatehouseError(
      'GATEHOUSE_CROSS_SITE_REQUEST',
      'An unsafe request with a session cookie must come from this site',
    );
  }
}
