// The error registry: every failure the API can answer, with its stable code, HTTP status, title
// and when it is answered (`doc`: the error table in docs/api.md is generated from it).
// Route code throws `GatehouseError`; the error handler (src/bridge/http/error-handler.ts) alone turns
// errors into RFC 9457 problem+json replies, whose schema (ProblemBody) every route declares.
import Type from 'typebox';

export const errorDefinitions = {
  GATEHOUSE_BAD_REQUEST: {
    status: 400,
    title: 'Bad request',
    doc: 'a header that is not acceptable (an over-long or non-ASCII `Idempotency-Key`), or a request the edge could not read',
  },
  GATEHOUSE_VALIDATION_FAILED: {
    status: 400,
    title: 'The request does not match the schema',
    doc: 'the body, query or path does not match the schema; `errors[]` points at each problem',
  },
  GATEHOUSE_MALFORMED_BODY: {
    status: 400,
    title: 'The body is not valid JSON',
    doc: 'the body is not valid JSON',
  },
  GATEHOUSE_INVALID_PAGE_TOKEN: {
    status: 400,
    title: 'The page token is not valid for this query',
    doc: 'a page token from another query',
  },
  GATEHOUSE_IDEMPOTENCY_KEY_REQUIRED: {
    status: 400,
    title: 'This route requires an Idempotency-Key',
    doc: 'the route requires an `Idempotency-Key` and none was sent',
  },
  GATEHOUSE_WEBHOOK_MALFORMED: {
    status: 400,
    title: 'The delivery is not a well-formed webhook',
    doc: 'a signed delivery without its event or delivery header, a payload that is not a JSON object, or no sender account id',
  },
  GATEHOUSE_CALLBACK_URL_INVALID: {
    status: 400,
    title: 'The callback URL is not usable',
    doc: 'a `Gatehouse-Callback-URL` that is not an absolute https URL (http only for a loopback host), has credentials, a fragment, a `;` or an encoded `/`, `\\`, `.`, `%` or control character in its path, or is over 2048 characters; nothing starts',
  },
  GATEHOUSE_SIGN_IN_FAILED: {
    status: 400,
    title: 'The sign-in could not be completed',
    doc: 'a sign-in callback whose state this browser never sent, that the IdP answered with an error, or whose code, PKCE, nonce or ID token did not check (docs/sign-in.md)',
  },
  GATEHOUSE_SESSION_TOO_LARGE: {
    status: 400,
    title: 'The session would not fit in a cookie',
    doc: 'the person has more groups than `signIn.maxGroups`: the session cookie would pass 4 KB',
  },
  GATEHOUSE_UNAUTHENTICATED: {
    status: 401,
    title: 'Authentication required',
    doc: 'no bearer token (with `WWW-Authenticate`)',
  },
  GATEHOUSE_WEBHOOK_SIGNATURE_INVALID: {
    status: 401,
    title: 'The webhook signature is missing or wrong',
    doc: 'a missing or wrong webhook signature',
  },
  GATEHOUSE_INVALID_TOKEN: {
    status: 401,
    title: 'The bearer token is not valid',
    doc: 'a token that failed verification (with `WWW-Authenticate`)',
  },
  GATEHOUSE_SESSION_INVALID: {
    status: 401,
    title: 'The session is not valid',
    doc: 'no valid session cookie on a request to `/argo/` or `/temporal/` that is not a page navigation (navigations are sent to `/auth/login`), or a session refresh the refresh cookie or the IdP does not allow',
  },
  GATEHOUSE_FORBIDDEN: {
    status: 403,
    title: 'Not allowed',
    doc: "authenticated but not allowed (the route, another owner's listing, delivery lookups); route access is checked before the body is read",
  },
  GATEHOUSE_CROSS_SITE_REQUEST: {
    status: 403,
    title: 'Cross-site request refused',
    doc: "an unsafe method riding on the session cookie whose `Sec-Fetch-Site` is not `same-origin` (or, without it, whose `Origin` is not the edge's)",
  },
  GATEHOUSE_CALLBACK_FORBIDDEN: {
    status: 403,
    title: 'This caller may not name that callback receiver',
    doc: "a `Gatehouse-Callback-URL` whose receivers are bound to other routes or groups than this job's and this caller's; nothing starts",
  },
  GATEHOUSE_NOT_FOUND: {
    status: 404,
    title: 'Not found',
    doc: 'no such path',
  },
  GATEHOUSE_UNKNOWN_ROUTE: {
    status: 404,
    title: 'No such job route',
    doc: 'no such job route',
  },
  GATEHOUSE_JOB_NOT_FOUND: {
    status: 404,
    title: 'No such job',
    doc: 'no such job, or one you may not see',
  },
  GATEHOUSE_DELIVERY_NOT_FOUND: {
    status: 404,
    title: 'No such delivery record',
    doc: 'no delivery record with that id (or it has aged out)',
  },
  GATEHOUSE_REQUEST_TIMEOUT: {
    status: 408,
    title: 'Request timeout',
    doc: 'the request (a slow body) was not received within `server.requestTimeout`',
  },
  GATEHOUSE_JOB_NOT_RUNNING: {
    status: 409,
    title: 'The job is no longer running',
    doc: 'cancel of a job that closed otherwise than cancelled',
  },
  GATEHOUSE_RERUN_NOT_POSSIBLE: {
    status: 409,
    title: 'This job cannot be run again',
    doc: "a rerun of a job a webhook delivery started (replay the delivery instead), of a route no longer configured, or whose input no longer matches the route's schema; nothing starts",
  },
  GATEHOUSE_DELIVERY_NOT_REPLAYABLE: {
    status: 409,
    title: 'This delivery cannot be replayed',
    doc: 'a replay of a delivery whose signature never verified, whose hook is gone, or that no rule of the hook starts a job for now',
  },
  GATEHOUSE_REPLAY_UNSAFE: {
    status: 409,
    title: 'A job of this delivery is running or has succeeded',
    doc: 'a replay while a job of that delivery is running or after one succeeded, without `"force": true`',
  },
  GATEHOUSE_BODY_TOO_LARGE: {
    status: 413,
    title: 'The body is too large',
    doc: 'a body over `limits.maxBodyBytes` (jobs) or `webhooks.maxBodyBytes`',
  },
  GATEHOUSE_UNSUPPORTED_MEDIA_TYPE: {
    status: 415,
    title: 'Unsupported content type',
    doc: 'the body is not `application/json`',
  },
  GATEHOUSE_IDEMPOTENCY_KEY_REUSED: {
    status: 422,
    title: 'The Idempotency-Key was used with another body',
    doc: 'the same key with another body, or with another `Gatehouse-Callback-URL`',
  },
  GATEHOUSE_CALLBACK_NOT_ALLOWED: {
    status: 422,
    title: 'No callback receiver allows the URL',
    doc: 'a `Gatehouse-Callback-URL` that no receiver of `callbacks.receivers` allows, or with a query its receiver does not take (or the deployment takes no callbacks); nothing starts',
  },
  GATEHOUSE_RATE_LIMITED: {
    status: 429,
    title: 'Too many requests',
    doc: 'too many requests from this caller or webhook source (the edge; with `Retry-After`)',
  },
  GATEHOUSE_TOO_MANY_STREAMS: {
    status: 429,
    title: 'Too many open event streams',
    doc: 'too many open event streams for this caller (`EDGE_SUBJECT_STREAMS` at the edge, `limits.maxStreamsPerCaller` at the bridge; with `Retry-After`)',
  },
  GATEHOUSE_HEADERS_TOO_LARGE: {
    status: 431,
    title: 'Request header fields too large',
    doc: 'request headers over 32 KB at the bridge (the edge refuses them before, with a 400 of its own)',
  },
  GATEHOUSE_INTERNAL: {
    status: 500,
    title: 'Internal error',
    doc: 'a bug; the `requestId` finds it in the logs',
  },
  GATEHOUSE_TEMPORAL_UNAVAILABLE: {
    status: 503,
    title: 'The workflow service is unavailable',
    doc: 'Temporal did not answer in time, could not be reached, or refused the connection or its credentials (with `Retry-After`)',
  },
  GATEHOUSE_IDP_UNAVAILABLE: {
    status: 503,
    title: 'The identity provider is unavailable',
    doc: 'the identity provider did not answer in time (with `Retry-After`)',
  },
  GATEHOUSE_DELIVERY_LOG_UNAVAILABLE: {
    status: 503,
    title: 'The delivery log is unavailable',
    doc: "the delivery log's PostgreSQL cannot be reached (admin API only; deliveries are still taken, with `Retry-After`)",
  },
  GATEHOUSE_STREAM_CAPACITY: {
    status: 503,
    title: 'This bridge holds all the event streams it may',
    doc: 'the bridge holds `limits.maxStreams` event streams (with `Retry-After`)',
  },
} as const satisfies Record<string, { status: number; title: string; doc: string }>;

export type ErrorCode = keyof typeof errorDefinitions;

/** One schema violation, located by a JSON pointer into the request part named by `in`. */
export interface FieldError {
  in: 'body' | 'query' | 'params' | 'headers';
  pointer: string;
  detail: string;
}

export interface GatehouseErrorOptions {
  /** Extra response headers, such as `WWW-Authenticate` or `Retry-After`. */
  headers?: Record<string, string>;
  errors?: FieldError[];
  cause?: unknown;
}

/**
 * Thrown by route code for every failure the client should see; carries a stable `code`. It is an
 * answer, not a bug: no stack trace is captured (capturing one was a tenth of an authenticated
 * 404's CPU). A `cause` keeps its own stack.
 */
export class GatehouseError extends Error {
  override readonly name = 'GatehouseError';
  readonly code: ErrorCode;
  readonly status: number;
  readonly title: string;
  readonly headers: Record<string, string>;
  readonly errors: FieldError[] | undefined;

  constructor(code: ErrorCode, detail: string, options: GatehouseErrorOptions = {}) {
    // Nothing between lowering the limit and restoring it can throw.
    const message = String(detail);
    const errorOptions = options.cause === undefined ? undefined : { cause: options.cause };
    const stackTraceLimit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(message, errorOptions);
    Error.stackTraceLimit = stackTraceLimit;
    const definition = errorDefinitions[code];
    this.code = code;
    this.status = definition.status;
    this.title = definition.title;
    this.headers = options.headers ?? {};
    this.errors = options.errors;
  }
}

/** The problem+json body (RFC 9457) for an error. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: ErrorCode;
  instance?: string;
  requestId?: string;
  errors?: FieldError[];
}

/** The problem+json body's schema, for every route's 4xx and 5xx answers in the OpenAPI document. */
export const ProblemBody = Type.Object({
  type: Type.String(),
  title: Type.String(),
  status: Type.Integer(),
  detail: Type.String(),
  code: Type.String(),
  requestId: Type.Optional(Type.String()),
  errors: Type.Optional(Type.Array(Type.Object({ in: Type.String(), pointer: Type.String(), detail: Type.String() }))),
});

export function problemType(code: ErrorCode): string {
  return `urn:gatehouse:problem:${code
    .replace(/^GATEHOUSE_/, '')
    .toLowerCase()
    .replaceAll('_', '-')}`;
}

export function toProblem(error: GatehouseError, requestId?: string): Problem {
  return {
    type: problemType(error.code),
    title: error.title,
    status: error.status,
    detail: error.message,
    code: error.code,
    ...(requestId === undefined ? {} : { requestId }),
    ...(error.errors === undefined ? {} : { errors: error.errors }),
  };
}
