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
    owner: Type.Optional(
      Type.String({
        maxLength: 1300,
        description: "admins only: list another principal's jobs (jwt:<issuer>#<sub> or webhook:<instance>:<id>)",
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

export const ProblemBody = Type.Object({
  type: Type.String(),
  title: Type.String(),
  status: Type.Integer(),
  detail: Type.String(),
  code: Type.String(),
  requestId: Type.Optional(Type.String()),
  errors: Type.Optional(Type.Array(Type.Object({ in: Type.String(), pointer: Type.String(), detail: Type.String() }))),
});

export function jobLinks(jobId: string) {
  const self = `/v1/jobs/${jobId}`;
  return { self, wait: `${self}?wait=30`, cancel: `${self}/cancel` };
}
