// Liveness and readiness. /healthz: the process answers. /readyz: config is loaded (it is, or the
// process would not be running) and Temporal answers its health check; HAProxy routes on this.
// It also reports how old the held JWKS is and whether the IdP could be reached last time.
// While the process drains before it stops (server.drainDelay), /readyz says 503 `draining` and
// every other route still answers, so the edge's health check moves traffic away first.
import type { FastifyInstance } from 'fastify';
import Type from 'typebox';

declare module 'fastify' {
  interface FastifyInstance {
    lifecycle: { draining: boolean };
  }
}

const Health = Type.Object({
  status: Type.String(),
  temporal: Type.Optional(Type.String()),
  /** The issuer's keys: how old the held set is, and whether the last refresh failed. */
  jwks: Type.Optional(
    Type.Object({
      ageSeconds: Type.Optional(Type.Integer()),
      stale: Type.Boolean(),
      lastError: Type.Optional(Type.String()),
    }),
  ),
});

export async function healthRoutes(app: FastifyInstance) {
  app.get(
    '/healthz',
    {
      config: { auth: false },
      schema: { tags: ['health'], response: { 200: Health } },
    },
    async () => ({ status: 'ok' }),
  );

  app.get(
    '/readyz',
    {
      config: { auth: false },
      schema: { tags: ['health'], response: { 200: Health, 503: Health } },
    },
    async (_request, reply) => {
      if (app.lifecycle.draining) {
        reply.code(503).header('retry-after', '5');
        return { status: 'draining' };
      }
      const ready = await app.temporal.isReady();
      if (!ready) reply.code(503).header('retry-after', '5');
      // Stale keys do not make the bridge unready: they are the keys until the IdP says otherwise.
      return {
        status: ready ? 'ready' : 'unavailable',
        temporal: ready ? 'serving' : 'unreachable',
        jwks: app.issuerKeys.state(),
      };
    },
  );
}
