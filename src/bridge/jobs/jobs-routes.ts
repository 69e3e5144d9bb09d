// The jobs API. One POST route per configured job route, each with that route's input schema and
// access rule as route config, so validation, auth and OpenAPI all come from the same table; then
// read, long-poll, stream events, list and cancel. Every handler hands over to the job service.
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { GatehouseConfig } from '../../config/load-config.js';
import type { RouteConfig } from '../../config/schema.js';
import { GatehouseError, ProblemBody } from '../errors.js';
import { callbackHeader } from './job-callback.js';
import { noteRequest } from '../http/request-tracing.js';
import { takeOver } from '../http/taken-over-reply.js';
import type { JobView } from '../../core/job-view.js';
import { idempotencyKeyOf, type JobKey } from './derive-job-id.js';
import {
  CancelBody,
  JobEventsHeaders,
  JobEventsResponse,
  JobIdParams,
  JobViewBody,
  NoMoreEvents,
  jobEventsDescription,
  ListJobsBody,
  ListJobsQueryString,
  ReadJobQuery,
  StartJobHeaders,
  StartedJobBody,
  jobLinks,
  startCallbacks,
} from './job-schemas.js';

const errorResponses = { '4xx': ProblemBody, '5xx': ProblemBody };
const security = [{ bearerAuth: [] }];

export async function jobsRoutes(parent: FastifyInstance, opts: { config: GatehouseConfig }) {
  const app = parent.withTypeProvider<TypeBoxTypeProvider>();
  const { limits, routes } = opts.config;

  for (const [route, routeConfig] of Object.entries(routes)) {
    app.post(
      `/v1/jobs/${route}`,
      {
        bodyLimit: limits.maxBodyBytes,
        config: { access: routeConfig.access },
        schema: {
          tags: ['jobs'],
          summary: routeConfig.description ?? `Start a ${routeConfig.workflowType} job`,
          operationId: `start-${route}`,
          security,
          body: routeConfig.input,
          headers: StartJobHeaders,
          response: { 202: StartedJobBody, ...errorResponses },
          // OpenAPI's callbacks object: not in fastify's schema type, read by @fastify/swagger.
          ...{ callbacks: startCallbacks },
        },
      },
      async (request, reply) => {
        const key = jobKey(request, routeConfig);
        const callbackUrl = request.headers[callbackHeader];
        const started = await app.jobs.start(request, {
          route,
          input: request.body,
          identity: request.identity,
          key,
          source: 'api',
          ...(callbackUrl === undefined ? {} : { callbackUrl }),
        });
        if (started.replayed) reply.header('idempotent-replayed', 'true');
        const { jobId, runId, status } = started;
        return reply
          .code(202)
          .header('location', `/v1/jobs/${jobId}`)
          .send({ jobId, runId, route, status, links: jobLinks(jobId) });
      },
    );
  }

  // Any other POST /v1/jobs/{route}: authenticated first, so the route table is not probeable, and
  // answered then, before the body is read or parsed.
  app.post(
    '/v1/jobs/:route',
    {
      schema: { hide: true },
      onRequest: async (request) => {
        const { route } = request.params as { route: string };
        throw new GatehouseError('GATEHOUSE_UNKNOWN_ROUTE', `There is no job route named "${route.slice(0, 63)}"`);
      },
    },
    async () => {
      throw new Error('unreachable: the onRequest hook answers every unknown job route');
    },
  );

  app.get(
    '/v1/jobs/:jobId',
    {
      schema: {
        tags: ['jobs'],
        summary: 'Read a job; ?wait=N long-polls until it closes',
        operationId: 'read-job',
        security,
        params: JobIdParams,
        querystring: ReadJobQuery,
        response: { 200: JobViewBody, ...errorResponses },
      },
    },
    async (request, reply) => {
      const { jobId } = request.params;
      noteRequest(request, { jobId });
      const waitMs = Math.min(request.query.wait ?? 0, limits.maxWaitSeconds) * 1000;
      // The raw response's 'close' says the client went away (the request's fires as soon as its
      // body has been read), so a long-poll stops waiting for nobody.
      if (waitMs === 0) return app.jobs.read(request.identity, jobId, 0, reply.raw);
      // A long-poll may wait for limits.maxWaitSeconds: it keeps neither Fastify's request and
      // reply nor its headers (src/bridge/http/taken-over-reply.ts), only what its answer needs.
      // Read before the take-over: what the job service refuses at once (an id no job can have)
      // is thrown here, and Fastify answers it.
      const reading = app.jobs.read(request.identity, jobId, waitMs, reply.raw);
      const held = takeOver<JobView>(request, reply);
      reading.then(held.ok, held.fail);
    },
  );

  app.get(
    '/v1/jobs/:jobId/events',
    {
      // A HEAD would open a stream that can send nothing.
      exposeHeadRoute: false,
      schema: {
        tags: ['jobs'],
        summary: "Follow a job's events (Server-Sent Events); Last-Event-ID resumes",
        description: jobEventsDescription,
        operationId: 'job-events',
        security,
        params: JobIdParams,
        headers: JobEventsHeaders,
        response: { 200: JobEventsResponse, 204: NoMoreEvents, ...errorResponses },
      },
    },
    async (request, reply) =>
      app.jobs.stream(request.identity, request.params.jobId, request.headers['last-event-id'], reply),
  );

  app.get(
    '/v1/jobs',
    {
      schema: {
        tags: ['jobs'],
        summary: 'List your jobs, newest first',
        operationId: 'list-jobs',
        security,
        querystring: ListJobsQueryString,
        response: { 200: ListJobsBody, ...errorResponses },
      },
    },
    async (request) =>
      app.jobs.list(request.identity, { ...request.query, pageSize: request.query.pageSize ?? limits.listPageSize }),
  );

  app.post(
    '/v1/jobs/:jobId/cancel',
    {
      schema: {
        tags: ['jobs'],
        summary: 'Request cancellation of a job',
        operationId: 'cancel-job',
        security,
        params: JobIdParams,
        response: { 202: CancelBody, ...errorResponses },
      },
    },
    async (request, reply) => {
      noteRequest(request, { jobId: request.params.jobId });
      return reply.code(202).send(await app.jobs.cancel(request.identity, request.params.jobId));
    },
  );
}

/** Idempotency-Key when sent; else the edge's X-Request-ID, so an edge retry cannot start twice. */
function jobKey(request: FastifyRequest, routeConfig: RouteConfig): JobKey {
  const idempotencyKey = idempotencyKeyOf(request);
  if (idempotencyKey !== undefined) return { kind: 'idempotency-key', value: idempotencyKey };
  if (routeConfig.idempotency.required) {
    throw new GatehouseError('GATEHOUSE_IDEMPOTENCY_KEY_REQUIRED', 'Send an Idempotency-Key header with this request');
  }
  // request.id is the client's X-Request-ID only when that header was sane (see app.ts genReqId).
  if (request.headers['x-request-id'] === request.id) return { kind: 'request-id', value: request.id };
  return { kind: 'none' };
}
