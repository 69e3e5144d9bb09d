// The console: Gatehouse's own pages for people behind the edge's sign-in (docs/console.md),
// served by the bridge under /ui (the prefix it is registered with). Registered only when browser sign-in is configured. Everything in
// this context answers HTML (errors too), under the console's headers and Content-Security-Policy;
// forms arrive as application/x-www-form-urlencoded, which only this context parses. Pages reach
// the bridge through one adapter (bridge-api.ts) and keep no state of their own.
import { negotiate } from '@fastify/accept-negotiator';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { GatehouseConfig } from '../../config/load-config.js';
import { GatehouseError, toProblem, type Problem } from '../errors.js';
import { toGatehouseError } from '../http/error-handler.js';
import { loadAssets } from './assets.js';
import { ApiProblem, createBridgeApi } from './bridge-api.js';
import { createCsrfTokens } from './csrf.js';
import { errorPage } from './pages/error-page.js';
import { deliveryPages } from './pages/deliveries-page.js';
import { jobPages } from './pages/job-page.js';
import { jobsPage } from './pages/jobs-page.js';
import { startPages } from './pages/start-page.js';
import { usagePages } from './pages/usage-page.js';
import { createPageKit, type PageKit } from './page-kit.js';
import { consoleHeaders } from './security-headers.js';

/** A posted form is small: a job's input, a few filters and a token. */
const maxFormBytes = 256 * 1024;

export async function consolePlugin(app: FastifyInstance, opts: { config: GatehouseConfig }) {
  const { config } = opts;
  const session = app.sessionAuth;
  const secrets = config.signInSecrets;
  if (session === undefined || secrets === undefined) return;
  const assets = loadAssets();
  const kit = createPageKit({
    api: createBridgeApi(app),
    config,
    csrf: createCsrfTokens(secrets.cookieKeys.map((key) => key.reveal())),
    assets,
    sessionCookie: session.cookieName,
  });

  // Pages are not API operations: none of them is in the OpenAPI document.
  app.addHook('onRoute', (route) => {
    route.schema = { ...route.schema, hide: true };
  });
  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string', bodyLimit: maxFormBytes },
    (_request, body, done) => done(null, new URLSearchParams(body as string)),
  );
  app.addHook('onSend', async (request, reply) => {
    const asset = request.routeOptions.url === `${app.prefix}/assets/:name`;
    reply.headers(consoleHeaders(asset && reply.statusCode === 200 ? 'asset' : 'page'));
  });
  app.setErrorHandler((error, request, reply) => answerError(kit, error, request, reply));
  app.setNotFoundHandler((request, reply) =>
    answerError(kit, new GatehouseError('GATEHOUSE_NOT_FOUND', 'There is no page at this address'), request, reply),
  );

  app.get('/assets/:name', { config: { auth: false } }, async (request, reply) => {
    const asset = assets.byUrl.get(request.url);
    if (asset === undefined) throw new GatehouseError('GATEHOUSE_NOT_FOUND', 'There is no such file');
    reply.type(asset.type).header('vary', 'accept-encoding');
    const coding = negotiate(request.headers['accept-encoding'] ?? '', ['br', 'gzip'] as const);
    if (coding === null) return reply.send(asset.body);
    return reply.header('content-encoding', coding).send(asset.encoded[coding]);
  });
  app.get('/', async (_request, reply) => reply.redirect('/ui/jobs', 303));
  jobsPage(app, kit);
  jobPages(app, kit);
  startPages(app, kit);
  deliveryPages(app, kit);
  usagePages(app, kit);
}

/**
 * Errors as pages: the API's problem as it answered it, or ours. A page navigation without a valid
 * session goes to sign in and back (what the edge does before a request gets here).
 */
function answerError(kit: PageKit, error: unknown, request: FastifyRequest, reply: FastifyReply) {
  let problem: Problem;
  if (error instanceof ApiProblem) problem = error.problem;
  else {
    const known = toGatehouseError(error);
    if (known === undefined) request.log.error({ err: error }, 'unexpected error in the console');
    else if (known.status >= 500) request.log.warn({ err: error, code: known.code }, known.message);
    problem = toProblem(
      known ??
        new GatehouseError('GATEHOUSE_INTERNAL', 'Something went wrong; the request id identifies it in the logs'),
      request.id,
    );
  }
  if (problem.status === 401 && request.method === 'GET') {
    return reply.redirect(`/auth/login?rd=${encodeURIComponent(request.url)}`, 303);
  }
  return kit.send(request, reply, errorPage(problem, request.id), problem.status);
}
