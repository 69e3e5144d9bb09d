// The delivery log's API shapes: a record as admins see it (the stored event is shown only on the
// single-record read), the list's filters and page, and the replay's request and answer.
import Type from 'typebox';
import { deliveryOrigins, deliveryOutcomes } from '../../core/deliveries.js';
import { JobLinks } from '../jobs/job-schemas.js';

const Nullable = <T extends ReturnType<typeof Type.String>>(schema: T) => Type.Union([schema, Type.Null()]);
const NullableInt = Type.Union([Type.Integer(), Type.Null()]);
const literals = <T extends readonly string[]>(values: T) => Type.Union(values.map((value) => Type.Literal(value)));

const recordFields = {
  id: Type.String({ description: "Gatehouse's id of this record (time-ordered)" }),
  receivedAt: Type.String({ format: 'date-time' }),
  provider: Type.String(),
  hook: Type.String(),
  deliveryId: Nullable(Type.String({ description: "the provider's delivery id header (unsigned)" })),
  event: Nullable(Type.String()),
  repository: Nullable(Type.String()),
  outcome: literals(deliveryOutcomes),
  reason: Nullable(
    Type.String({ description: 'ignored: the rule reason; rejected: bad_signature, malformed, too_large, …' }),
  ),
  detail: Nullable(Type.String()),
  status: NullableInt,
  jobId: Nullable(Type.String()),
  runId: Nullable(Type.String()),
  route: Nullable(Type.String()),
  bodySha256: Nullable(Type.String()),
  bodyBytes: NullableInt,
  origin: literals(deliveryOrigins),
  replayOf: Nullable(Type.String({ description: 'replays: the record replayed' })),
  requestedBy: Nullable(Type.String({ description: "replays: the admin's principal" })),
  sample: Type.Union([
    Type.Object({
      headers: Type.Record(Type.String(), Type.String()),
      clientAddress: Type.String(),
    }),
    Type.Null(),
  ]),
  replayable: Type.Boolean({ description: 'the signature verified and the event was kept' }),
};

export const DeliverySummaryBody = Type.Object(recordFields);

export const DeliveryBody = Type.Object({
  ...recordFields,
  gitEvent: Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()], {
    description: 'the verified, normalized event the job was started with',
  }),
  links: Type.Union([JobLinks, Type.Null()]),
});

export const DeliveryListQuery = Type.Object(
  {
    provider: Type.Optional(Type.String({ maxLength: 64 })),
    hook: Type.Optional(Type.String({ maxLength: 64 })),
    outcome: Type.Optional(literals(deliveryOutcomes)),
    repository: Type.Optional(Type.String({ maxLength: 255 })),
    deliveryId: Type.Optional(Type.String({ maxLength: 255 })),
    since: Type.Optional(Type.String({ format: 'date-time' })),
    pageSize: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })),
    pageToken: Type.Optional(Type.String({ maxLength: 256 })),
  },
  { additionalProperties: false },
);

export const DeliveryListBody = Type.Object({
  deliveries: Type.Array(DeliverySummaryBody),
  nextPageToken: Type.Union([Type.String(), Type.Null()]),
});

export const DeliveryIdParams = Type.Object({ id: Type.String({ maxLength: 64 }) });

export const ReplayRequest = Type.Object(
  {
    force: Type.Optional(
      Type.Boolean({
        default: false,
        description: 'replay even when a job of this delivery is still running or has succeeded',
      }),
    ),
  },
  { additionalProperties: false },
);

export const ReplayAnswer = Type.Object({
  jobId: Type.String(),
  runId: Type.String(),
  route: Type.String(),
  duplicate: Type.Boolean({ description: 'true when this Idempotency-Key had already started the replay' }),
  replayOf: Type.String({ description: 'the record replayed' }),
  record: Type.String({ description: "the replay's own delivery-log record" }),
  links: JobLinks,
});
