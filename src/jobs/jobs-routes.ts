// The jobs API (DESIGN.md §2). One POST route per configured job route, each with that route's
// input schema and access rule as route config, so validation, auth and OpenAPI all come from the
// same table; then read, long-poll, list and cancel.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { RequestInfo } from '../../activities/types.js';
import { isAdmin } from '../auth/authorize.js';
import type { GatehouseConfig } from '../config/load-config.js';
import type { RouteConfig } from '../config/schema.js';
import { GatehouseError } from '../errors.js';
import { deriveJobId, isJobId, keyHeaderPattern, type JobKey } from './job-id.js';
import {
  CancelBody, JobIdParams, JobViewBody, ListJobsBody, ListJobsQueryString, ProblemBody, ReadJobQuery, StartedJobBody, jobLinks,
} from './job-schemas.js';
import { cancelJob } from './cancel-job.js';
import { listJobs } from './list-jobs.js';
import { jobNotFound, waitForJob } from './read-job.js';
import { startJob } from './start-job.js';

const errorResponses = { '4xx': ProblemBody, '5xx': ProblemBody };
const security = [{ bearerAuth: [] }];

export async function jobsRoutes(parent: FastifyInstance, opts: { config: GatehouseConfig }) {
  const app = parent.withTypeProvider<TypeBoxTypeProvider>();
  const { limits, routes } = opts.config;

  for (const [route, routeConfig] of Object.entries(routes)) {
    app.post(`/v1/jobs/${route}`, {
      bodyLimit: limits.maxBodyBytes,
      config: { access: routeConfig.access },
      schema: {
        tags: ['jobs'],
        summary: routeConfig.description ?? `Start a ${routeConfig.workflowType} job`,
        operationId: `start-${route}`,
        security,
        body: routeConfig.input,
        response: { 202: StartedJobBody, ...errorResponses },
      },
    }, async (request, reply) => {
      const key = jobKey(request, routeConfig);
      const info = requestInfo(request, route, key);
      const jobId = deriveJobId(route, request.identity, key);
      let started;
      try {
        started = await startJob(app.temporal, {
          jobId, route, routeConfig, input: request.body, identity: request.identity, request: info, source: 'api',
        });
      } catch (error) {
        if (error instanceof GatehouseError && error.code === 'GATEHOUSE_IDEMPOTENCY_KEY_REUSED') {
          app.metrics.jobStarts.inc({ route, outcome: 'conflict' });
        }
        throw error;
      }
      app.metrics.jobStarts.inc({ route, outcome: started.replayed ? 'replayed' : 'started' });
      if (started.replayed) reply.header('idempotent-replayed', 'true');
      return reply.code(202).header('location', `/v1/jobs/${jobId}`).send({
        jobId, runId: started.runId, route, status: started.status, links: jobLinks(jobId),
      });
    });
  }

  // Any other POST /v1/jobs/{route}: authenticated first, so the route table is not probeable.
  app.post('/v1/jobs/:route', { schema: { hide: true } }, async (request) => {
    const { route } = request.params as { route: string };
    throw new GatehouseError('GATEHOUSE_UNKNOWN_ROUTE', `There is no job route named "${route.slice(0, 63)}"`);
  });

  app.get('/v1/jobs/:jobId', {
    schema: {
      tags: ['jobs'], summary: 'Read a job; ?wait=N long-polls until it closes', operationId: 'read-job', security,
      params: JobIdParams, querystring: ReadJobQuery, response: { 200: JobViewBody, ...errorResponses },
    },
  }, async (request, reply) => {
    const { jobId } = request.params;
    if (!isJobId(jobId)) throw jobNotFound();
    const waitMs = Math.min(request.query.wait ?? 0, limits.maxWaitSeconds) * 1000;
    return waitForJob(app.temporal, jobId, request.identity, app.adminGroups, waitMs, clientGone(reply));
  });

  app.get('/v1/jobs', {
    schema: {
      tags: ['jobs'], summary: 'List your jobs, newest first', operationId: 'list-jobs', security,
      querystring: ListJobsQueryString, response: { 200: ListJobsBody, ...errorResponses },
    },
  }, async (request) => {
    const { owner, route, status, pageSize, pageToken } = request.query;
    if (owner !== undefined && owner !== request.identity.subject && !isAdmin(request.identity, app.adminGroups)) {
      throw new GatehouseError('GATEHOUSE_FORBIDDEN', 'Only admins may list another owner\'s jobs');
    }
    return listJobs(app.temporal, {
      owner: owner ?? request.identity.subject,
      pageSize: pageSize ?? limits.listPageSize,
      ...(route === undefined ? {} : { route }),
      ...(status === undefined ? {} : { status }),
      ...(pageToken === undefined ? {} : { pageToken }),
    });
  });

  app.post('/v1/jobs/:jobId/cancel', {
    schema: {
      tags: ['jobs'], summary: 'Request cancellation of a job', operationId: 'cancel-job', security,
      params: JobIdParams, response: { 202: CancelBody, ...errorResponses },
    },
  }, async (request, reply) => {
    const { jobId } = request.params;
    if (!isJobId(jobId)) throw jobNotFound();
    const answer = await cancelJob(app.temporal, jobId, request.identity, app.adminGroups);
    return reply.code(202).send(answer);
  });
}

/** Idempotency-Key when sent; else the edge's X-Request-ID, so an edge retry cannot start twice. */
function jobKey(request: FastifyRequest, routeConfig: RouteConfig): JobKey {
  const idempotencyKey = request.headers['idempotency-key'];
  if (typeof idempotencyKey === 'string') {
    if (!keyHeaderPattern.test(idempotencyKey)) {
      throw new GatehouseError('GATEHOUSE_BAD_REQUEST', 'Idempotency-Key must be 1 to 255 printable ASCII characters');
    }
    return { kind: 'idempotency-key', value: idempotencyKey };
  }
  if (routeConfig.idempotency.required) {
    throw new GatehouseError('GATEHOUSE_IDEMPOTENCY_KEY_REQUIRED', 'Send an Idempotency-Key header with this request');
  }
  // request.id is the client's X-Request-ID only when that header was sane (see app.ts genReqId).
  if (request.headers['x-request-id'] === request.id) return { kind: 'request-id', value: request.id };
  return { kind: 'none' };
}

function requestInfo(request: FastifyRequest, route: string, key: JobKey): RequestInfo {
  const userAgent = request.headers['user-agent'];
  return {
    requestId: request.id,
    route,
    receivedAt: new Date().toISOString(),
    clientAddress: request.ip,
    ...(userAgent === undefined ? {} : { userAgent: userAgent.slice(0, 512) }),
    ...(key.kind === 'idempotency-key' ? { idempotencyKey: key.value } : {}),
    bodySha256: request.bodySha256,
  };
}

/**
 * Aborts when the client closes the connection, so a long-poll stops waiting for nobody. The
 * response's 'close' is the one to watch: the request's fires as soon as its body has been read.
 */
function clientGone(reply: FastifyReply): AbortSignal {
  const controller = new AbortController();
  reply.raw.once('close', () => controller.abort());
  return controller.signal;
}
