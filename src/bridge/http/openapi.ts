// The OpenAPI document, generated from the same route schemas that validate requests, served at
// /openapi.json, with a docs page at /docs (assets are bundled: nothing is loaded from a CDN).
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

async function openApiPlugin(app: FastifyInstance) {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Gatehouse',
        version: '1',
        description:
          'Authenticated HTTP in front of Temporal: start, read, list and cancel jobs. Errors are application/problem+json (RFC 9457) with a stable `code`.',
      },
      components: { securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
    },
  });
  app.get('/openapi.json', { config: { auth: false }, schema: { hide: true } }, async () => app.swagger());
  await app.register(async (docs) => {
    // The docs page is public; its routes are made by the plugin, so mark them here.
    docs.addHook('onRoute', (route) => {
      route.config = { ...route.config, auth: false };
    });
    await docs.register(swaggerUi, { routePrefix: '/docs' });
  });
}

export default fp(openApiPlugin, { name: 'gatehouse-openapi' });
