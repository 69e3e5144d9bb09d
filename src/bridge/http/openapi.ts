// The OpenAPI document, generated from the same route schemas that validate requests, served at
// /openapi.json, with a docs page at /docs (assets are bundled: nothing is loaded from a CDN).
//
// The document is served to authenticated callers only, each seeing the operations it may use
// (openapi-document.ts): unknown routes answer only authenticated callers so the route table is
// not probeable, and a public document would list it, with every hook name and the admins'
// routes. The docs page itself (HTML, scripts, styles) says nothing about the routes and stays
// public; the document it loads (/docs/json, /docs/yaml) is the caller's, like /openapi.json.
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { AccessRules, RouteAccess } from '../../core/access.js';
import { documentFor, hoistDefinitions } from './openapi-document.js';

/** The docs plugin's routes that serve the document rather than the page. */
const documentRoutes = /\/(json|yaml)$/;

async function openApiPlugin(app: FastifyInstance, opts: { rules: AccessRules }) {
  const access = new Map<string, RouteAccess>();
  app.addHook('onRoute', (route) => {
    const operationId = (route.schema as { operationId?: unknown } | undefined)?.operationId;
    if (typeof operationId === 'string' && route.config?.access !== undefined)
      access.set(operationId, route.config.access);
  });
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Gatehouse',
        version: '1',
        description:
          'Authenticated HTTP in front of Temporal: start, read, list and cancel jobs. Errors are application/problem+json (RFC 9457) with a stable `code`. This document lists what the caller who fetched it may use.',
      },
      components: { securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
    },
    transformObject: (documentObject) =>
      'openapiObject' in documentObject ? hoistDefinitions(documentObject.openapiObject) : documentObject.swaggerObject,
  });
  const forCaller = (request: FastifyRequest) => documentFor(app.swagger(), request.identity, access, opts.rules);
  app.get('/openapi.json', { schema: { hide: true } }, async (request) => forCaller(request));
  await app.register(async (docs) => {
    // The page and its assets are public; its routes are made by the plugin, so mark them here.
    docs.addHook('onRoute', (route) => {
      if (!documentRoutes.test(route.url)) route.config = { ...route.config, auth: false };
    });
    await docs.register(swaggerUi, {
      routePrefix: '/docs',
      transformSpecificationClone: false,
      transformSpecification: (_document, request) => forCaller(request),
    });
  });
}

export default fp(openApiPlugin, { name: 'gatehouse-openapi' });
