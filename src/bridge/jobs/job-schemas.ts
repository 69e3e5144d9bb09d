// The jobs API's HTTP shapes. These schemas validate requests, serialize responses and feed the
// OpenAPI document; the TypeScript types are derived from them.
import Type from 'typebox';
import { jobStatuses } from '../../core/job-status.js';

const JobStatus = Type.Union(jobStatuses.map((s) => Type.Literal(s)));

export const JobIdParams = Type.Object({
  jobId: Type.String({ maxLength: 1000, description: 'the id answered by the start, `<route>.<key digest>`' }),
});

export const JobLinks = Type.Object({
  self: Type.String(),
  wait: Type.String(),
  cancel: Type.String(),
});

export const StartedJobBody = Type.Object({
  jobId: Type.String(),
  runId: Type.String(),
  route: Type.String(),
  status: Type.String(),
  links: JobLinks,
});

export const Failure = Type.Object({ message: Type.String(), type: Type.Optional(Type.String()) });

const summaryFields = {
  jobId: Type.String(),
  runId: Type.String(),
  route: Type.String(),
  workflowType: Type.String(),
  source: Type.String(),
  owner: Type.String(),
  status: Type.String(),
  startedAt: Type.String({ format: 'date-time' }),
  closedAt: Type.Optional(Type.String({ format: 'date-time' })),
};

export const JobSummaryBody = Type.Object(summaryFields);

export const JobViewBody = Type.Object({
  ...summaryFields,
  result: Type.Optional(Type.Unknown()),
  failure: Type.Optional(Failure),
});

/** The one request header of a start besides authentication and the idempotency key. */
export const StartJobHeaders = Type.Object({
  'gatehouse-callback-url': Type.Optional(
    Type.String({
      description:
        "a completion callback: when the job closes, however it closes, its final state is POSTed here, signed with Standard Webhooks with the key of the receiver it goes to. A receiver of the deployment's callbacks.receivers must allow the URL (https; no ;, no query unless the receiver takes it) for this route and this caller: 400 GATEHOUSE_CALLBACK_URL_INVALID, 403 GATEHOUSE_CALLBACK_FORBIDDEN (a receiver for other routes or groups), 422 GATEHOUSE_CALLBACK_NOT_ALLOWED, and in each case nothing starts; absent, the route's default callback if it has one",
    }),
  ),
});

/** A completion callback's body (Standard Webhooks payload structure): `data` is the job as GET answers it. */
export const CallbackEventBody = Type.Object({
  type: Type.Union(
    ['job.completed', 'job.failed', 'job.canceled', 'job.terminated', 'job.timed_out'].map((t) => Type.Literal(t)),
  ),
  timestamp: Type.String({ format: 'date-time', description: 'when the job closed' }),
  data: JobViewBody,
});

/**
 * The OpenAPI `callbacks` of a start: fastify's route schema has no type for them, and
 * @fastify/swagger copies requestBody and responses as written.
 */
export const startCallbacks = {
  jobClosed: {
    '{$request.header.Gatehouse-Callback-URL}': {
      post: {
        requestBody: {
          description:
            'Sent once the job has closed, to the URL of Gatehouse-Callback-URL (or the route default), with the Standard Webhooks headers: webhook-id (the job id; the same on every attempt, so dedupe by it), webhook-timestamp (this attempt, Unix seconds) and webhook-signature (v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>"> with the receiver\'s own whsec_ key). A receiver also checks data.route, data.owner and data.jobId against what it expects (docs/callbacks.md). Retried with backoff (callbacks.retryFor, 24h by default) until a 2xx; 410 Gone stops it. Redirects are not followed.',
          required: true,
          content: { 'application/json': { schema: CallbackEventBody } },
        },
        responses: {
          '2XX': { description: 'delivered; no further attempt' },
          '410': { description: 'gone: the callback is given up' },
          default: { description: 'any other answer, a timeout or a network error: tried again later' },
        },
      },
    },
  },
};

export const ReadJobQuery = Type.Object({
  wait: Type.Optional(
    Type.Integer({
      minimum: 0,
      maximum: 3600,
      description: 'seconds to long-poll for the job to close; capped by the server',
    }),
  ),
});

export const JobEventsHeaders = Type.Object({
  'last-event-id': Type.Optional(
    Type.String({
      maxLength: 64,
      description: 'the id of the last event received: the stream resumes after it (EventSource sends it itself)',
    }),
  ),
});

export const jobEventsDescription = [
  '`text/event-stream`. Events, each with an `id` (`<run>:<n>`, the final state `<run>:end`):',
  '`status` (first RUNNING, last the final state, as GET /v1/jobs/{jobId} answers it), and for CI',
  'jobs `phase`, `step` (a step started, passed or failed) and `argo`; then `end` (no id), and the',
  'server closes. A comment every `limits.streamHeartbeat`. A closed job streams its whole log and',
  'ends. Reconnect with `Last-Event-ID` to resume exactly after that event, on any replica; `204`',
  'when it names the final state. Streams end after `limits.streamMaxDuration`, or when the bridge',
  'shuts down, with a `retry` field: reconnect with `Last-Event-ID`.',
].join(' ');

export const JobEventsResponse = {
  description: 'the job events, as Server-Sent Events',
  content: {
    'text/event-stream': {
      schema: {
        type: 'string',
        description: 'id: <run>:<n>\nevent: status|phase|step|argo|end\ndata: <one JSON document>\n\n',
      },
    },
  },
};

export const NoMoreEvents = { description: 'Last-Event-ID names the final state: there is nothing more', type: 'null' };

export const ListJobsQueryString = Type.Object(
  {
    route: Type.Optional(Type.String({ maxLength: 63 })),
    status: Type.Optional(JobStatus),
    pageSize: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })),
    pageToken: Type.Optional(Type.String({ maxLength: 4096 })),
    source: Type.Optional(
      Type.String({
        pattern: '^[a-z][a-z0-9-]{0,31}$',
        description: '`api`, or the provider whose webhook started it',
      }),
    ),
    repository: Type.Optional(
      Type.String({ maxLength: 255, description: 'jobs about this repository (`owner/name`): CI and Git events' }),
    ),
    rerunOf: Type.Optional(Type.String({ maxLength: 1000, description: 'reruns of this job (POST …/rerun)' })),
    owner: Type.Optional(
      Type.String({
        maxLength: 1300,
        description:
          "admins only: list another principal's jobs (jwt:<issuer>#<sub> or webhook:<instance>:<id>), or `*` for everyone's",
      }),
    ),
  },
  { additionalProperties: false },
);

export const ListJobsBody = Type.Object({
  jobs: Type.Array(JobSummaryBody),
  nextPageToken: Type.Union([Type.String(), Type.Null()]),
});

export const CancelBody = Type.Object({
  jobId: Type.String(),
  status: Type.Union([Type.Literal('CANCEL_REQUESTED'), Type.Literal('CANCELED')]),
});

export function jobLinks(jobId: string) {
  const self = `/v1/jobs/${jobId}`;
  return { self, wait: `${self}?wait=30`, cancel: `${self}/cancel` };
}
