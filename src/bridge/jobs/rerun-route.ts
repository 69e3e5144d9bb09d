// POST /v1/jobs/{jobId}/rerun: a new job with the same route and input as one the caller may see,
// started by its owner under the same rules as a start (the route's access, the callback the route
// sets by default), idempotent by Idempotency-Key, and linked to the first: `rerunOf` in its memo
// and the GatehouseRerunOf search attribute (GET /v1/jobs?rerunOf=<jobId> lists the reruns).
//
// Only jobs started through the API are run again this way. A job a webhook delivery started is
// owned by the provider's sender and carries a normalized event: that is the delivery log's replay.
// The stored input is checked against the route's schema as it is now, as a start's body would be.
import { randomUUID } from 'node:crypto';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import Type from 'typebox';
import { mayCallRoute } from '../../core/access.js';
import { isJobId } from '../../core/job-id.js';
import { createBodyValidator } from '../../config/body-validator.js';
import type { GatehouseConfig } from '../../config/load-config.js';
import { GatehouseError, ProblemBody } from '../errors.js';
import { noteRequest } from '../http/request-tracing.js';
import { idempotencyKeyOf } from './derive-job-id.js';
import { readJobInput } from './job-input.js';
import { JobIdParams, StartedJobBody, jobLinks } from './job-schemas.js';
import { findJob, jobNotFound } from './read-job.js';

const RerunHeaders = Type.Object({
  'idempotency-key': Type.Optional(
    Type.String({ description: 'the same key again answers the same rerun (scoped to the job and the caller)' }),
  ),
});

const RerunBody = Type.Object({
  ...StartedJobBody.properties,
  rerunOf: Type.String({ description: 'the job run again' }),
});

const notPossible = (detail: string) => new GatehouseError('GATEHOUSE_RERUN_NOT_POSSIBLE', detail);

export async function rerunRoute(parent: FastifyInstance, opts: { config: GatehouseConfig }) {
  const app = parent.withTypeProvider<TypeBoxTypeProvider>();
  const { routes } = opts.config;
  const bodies = createBodyValidator();
  const validators = new Map(Object.entries(routes).map(([route, config]) => [route, bodies.compile(config.input)]));

  app.post(
    '/v1/jobs/:jobId/rerun',
    {
      schema: {
        tags: ['jobs'],
        summary: 'Run a job again: a new job with the same route and input, linked to the first',
        description:
          "Answers as a start (202 + Location). Only the job's owner may run it again (403 for anyone else who may see it, admins included, as the new job would run with their rights), and must still be allowed to call its route. A job a webhook delivery started, a route no longer configured, or an input the route no longer accepts is 409 GATEHOUSE_RERUN_NOT_POSSIBLE. Send an Idempotency-Key to make a retried rerun answer the same job.",
        operationId: 'rerun-job',
        security: [{ bearerAuth: [] }],
        params: JobIdParams,
        headers: RerunHeaders,
        response: { 202: RerunBody, '4xx': ProblemBody, '5xx': ProblemBody },
      },
    },
    async (request, reply) => {
      const { jobId } = request.params;
      noteRequest(request, { jobId });
      const { rules } = app.jobs;
      const caller = request.identity;
      if (!isJobId(jobId)) throw jobNotFound();
      const { view, firstRunId } = await findJob(app.temporal, jobId, caller, rules);
      if (view.source !== 'api') {
        throw notPossible(`A job a ${view.source} delivery started is run again by replaying the delivery (admins)`);
      }
      // A rerun runs as its caller, and the workers decide by that identity (the CI policy gate, the
      // usage owner): anyone else, an admin too, would run input they never wrote with their own
      // rights. They may read the job and start one of their own from its input.
      if (view.owner !== caller.principal) {
        throw new GatehouseError(
          'GATEHOUSE_FORBIDDEN',
          "Only the job's owner may run it again; start a new job with its input instead",
        );
      }
      const routeConfig = routes[view.route];
      const validate = validators.get(view.route);
      if (routeConfig === undefined || validate === undefined) {
        throw notPossible(`The route "${view.route}" is no longer configured`);
      }
      if (!mayCallRoute(caller, routeConfig.access, rules)) {
        throw new GatehouseError('GATEHOUSE_FORBIDDEN', 'The caller may not use this route');
      }
      if (routeConfig.idempotency.required && request.headers['idempotency-key'] === undefined) {
        throw new GatehouseError(
          'GATEHOUSE_IDEMPOTENCY_KEY_REQUIRED',
          'Send an Idempotency-Key header with this request',
        );
      }
      // The request's input is the first run's: a later run started from what the workflow passed on.
      const input = await readJobInput(app.temporal, jobId, firstRunId);
      if (input === undefined || !validate(input)) {
        throw notPossible(`The job's input does not match the "${view.route}" route's schema any more`);
      }
      const started = await app.jobs.start(request, {
        route: view.route,
        input,
        identity: caller,
        key: { kind: 'rerun', of: jobId, value: rerunKey(request) },
        source: 'api',
        rerunOf: { jobId, runId: view.runId, requestedBy: caller.principal },
      });
      if (started.replayed) reply.header('idempotent-replayed', 'true');
      return reply
        .code(202)
        .header('location', `/v1/jobs/${started.jobId}`)
        .send({
          jobId: started.jobId,
          runId: started.runId,
          route: started.route,
          status: started.status,
          links: jobLinks(started.jobId),
          rerunOf: jobId,
        });
    },
  );
}

/**
 * The Idempotency-Key when sent (checked as a start's is); else, as for a start, the edge's
 * X-Request-ID, so an edge retry cannot run the job again twice; else a new rerun every time.
 */
function rerunKey(request: FastifyRequest): string {
  const key = idempotencyKeyOf(request);
  if (key !== undefined) return key;
  // request.id is the client's X-Request-ID only when that header was sane (app.ts genReqId).
  return request.headers['x-request-id'] === request.id ? `request-id:${request.id}` : randomUUID();
}
