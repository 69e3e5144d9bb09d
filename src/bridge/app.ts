// Builds the Fastify app from a loaded config. No environment is read here: src/server.ts does
// that and passes the result in, so tests build the same app with their own config.
// Request tracing first (the server span and trace id every later hook and log line sees), then
// plugins (metrics, the Temporal client, the job service, authentication, OpenAPI), then the
// routes, each a thin layer over the job service.
import { randomUUID } from 'node:crypto';
import Fastify, { LogController, type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { destination } from 'pino';
import authPlugin from './auth/auth-plugin.js';
import type { GatehouseConfig } from '../config/load-config.js';
import { durationMs } from '../config/duration.js';
import { clientErrorHandler } from './http/client-errors.js';
import { logAnswer } from './http/answer-log.js';
import { registerErrorHandler } from './http/error-handler.js';
import { healthRoutes } from './http/health-routes.js';
import { registerJsonBody } from './http/json-body.js';
import metricsPlugin from './http/metrics-plugin.js';
import openApiPlugin from './http/openapi.js';
import { registerRequestTracing, requestLogger } from './http/request-tracing.js';
import { registerValidators } from './http/validators.js';
import signInPlugin from './sign-in/sign-in-plugin.js';
import jobServicePlugin from './jobs/job-service.js';
import { jobsRoutes } from './jobs/jobs-routes.js';
import { rerunRoute } from './jobs/rerun-route.js';
import { whoamiRoute } from './jobs/whoami-route.js';
import { consolePlugin } from './console/console-plugin.js';
import temporalPlugin from './temporal/temporal-plugin.js';
import { deliveryRoutes } from './webhooks/delivery-routes.js';
import { deliveriesStore } from './webhooks/deliveries-store.js';
import { webhookRoutes } from './webhooks/webhook-routes.js';
import { hookHealthRoute } from './webhooks/hook-health-route.js';
import type { Tracing } from '../telemetry/tracing.js';

export interface AppOptions {
  logger?: FastifyServerOptions['logger'];
  /** The process's tracing (src/telemetry/tracing.ts); absent or off: no spans, trace ids still logged. */
  tracing?: Tracing;
}

/** A client or edge request id is kept only when it is plainly an id; otherwise we make one. */
const saneRequestId = /^[A-Za-z0-9._:-]{8,128}$/;

export async function buildApp(config: GatehouseConfig, options: AppOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    logger: options.logger ?? {
      level: 'info',
      // Tokens and webhook secrets must never reach a log line, whatever a serializer does later.
      redact: ['req.headers.authorization', 'req.headers["x-gitlab-token"]', 'req.headers.cookie'],
      // Written to stdout asynchronously: no write call per line on the request's path, and lines
      // logged while a write is under way go out together. Nothing waits for a buffer to fill (a
      // quiet bridge's lines appear at once); what is still buffered is written on exit. If stdout
      // stops draining, lines beyond 16 MB buffered are dropped rather than filling the memory.
      stream: destination({ dest: 1, sync: false, maxLength: 16 * 1_048_576 }),
    },
    // Only the edge's addresses may speak for the client's address and protocol.
    trustProxy: config.server.trustProxy.length > 0 ? config.server.trustProxy : false,
    requestIdHeader: false,
    childLoggerFactory: requestLogger,
    genReqId: (request) => {
      const header = request.headers['x-request-id'];
      return typeof header === 'string' && saneRequestId.test(header) ? header : randomUUID();
    },
    bodyLimit: config.limits.maxBodyBytes,
    // Temporal ids reach 1000 bytes; longer path segments are refused as unknown jobs (404).
    routerOptions: { maxParamLength: 1_100 },
    return503OnClosing: true,
    // One log line per request, written when it is answered (below), instead of Fastify's two
    // with the whole request serialized.
    logController: new LogController({ disableRequestLogging: true }),
    // Headers as large as the edge passes (tune.bufsize 32768), and a bound on how long a whole
    // request may take to arrive, so slow bodies cannot hold the bridge.
    http: { maxHeaderSize: 32_768 },
    requestTimeout: durationMs(config.server.requestTimeout),
    clientErrorHandler,
  });

  await registerRequestTracing(app, options.tracing);
  app.decorate('lifecycle', { draining: false });
  registerErrorHandler(app);
  registerValidators(app);
  registerJsonBody(app);
  // The fields that matter, once: what was asked, the answer and how long it took. Health probes
  // (every second from every edge) are logged only when they fail.
  app.addHook('onResponse', (request, reply, done) => {
    logAnswer(request.log, request, reply.statusCode, reply.elapsedTime);
    done();
  });

  await app.register(metricsPlugin);
  await app.register(temporalPlugin, { config, tracing: options.tracing });
  await app.register(jobServicePlugin, { config });
  await app.register(deliveriesStore, { config });
  await app.register(signInPlugin, { config });
  await app.register(authPlugin, { config });
  await app.register(openApiPlugin, { rules: app.jobs.rules });
  await app.register(healthRoutes);
  await app.register(jobsRoutes, { config });
  await app.register(rerunRoute, { config });
  await app.register(whoamiRoute);
  await app.register(webhookRoutes, { config });
  await app.register(deliveryRoutes, { config });
  await app.register(hookHealthRoute, { config });
  await app.register(consolePlugin, { config, prefix: '/ui' });
  return app;
}
