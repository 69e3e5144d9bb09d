// The error registry: every failure the API can answer, with its stable code and HTTP status.
// Route code throws `GatehouseError`; the error handler (src/bridge/http/error-handler.ts) alone turns
// errors into RFC 9457 problem+json replies.

export const errorDefinitions = {
  GATEHOUSE_BAD_REQUEST: { status: 400, title: 'Bad request' },
  GATEHOUSE_VALIDATION_FAILED: { status: 400, title: 'The request does not match the schema' },
  GATEHOUSE_MALFORMED_BODY: { status: 400, title: 'The body is not valid JSON' },
  GATEHOUSE_INVALID_PAGE_TOKEN: { status: 400, title: 'The page token is not valid for this query' },
  GATEHOUSE_IDEMPOTENCY_KEY_REQUIRED: { status: 400, title: 'This route requires an Idempotency-Key' },
  GATEHOUSE_WEBHOOK_MALFORMED: { status: 400, title: 'The delivery is not a well-formed webhook' },
  GATEHOUSE_CALLBACK_URL_INVALID: { status: 400, title: 'The callback URL is not usable' },
  GATEHOUSE_SIGN_IN_FAILED: { status: 400, title: 'The sign-in could not be completed' },
  GATEHOUSE_SESSION_TOO_LARGE: { status: 400, title: 'The session would not fit in a cookie' },
  GATEHOUSE_UNAUTHENTICATED: { status: 401, title: 'Authentication required' },
  GATEHOUSE_WEBHOOK_SIGNATURE_INVALID: { status: 401, title: 'The webhook signature is missing or wrong' },
  GATEHOUSE_INVALID_TOKEN: { status: 401, title: 'The bearer token is not valid' },
  GATEHOUSE_SESSION_INVALID: { status: 401, title: 'The session is not valid' },
  GATEHOUSE_FORBIDDEN: { status: 403, title: 'Not allowed' },
  GATEHOUSE_CROSS_SITE_REQUEST: { status: 403, title: 'Cross-site request refused' },
  GATEHOUSE_NOT_FOUND: { status: 404, title: 'Not found' },
  GATEHOUSE_UNKNOWN_ROUTE: { status: 404, title: 'No such job route' },
  GATEHOUSE_JOB_NOT_FOUND: { status: 404, title: 'No such job' },
  GATEHOUSE_DELIVERY_NOT_FOUND: { status: 404, title: 'No such delivery record' },
  GATEHOUSE_REQUEST_TIMEOUT: { status: 408, title: 'Request timeout' },
  GATEHOUSE_JOB_NOT_RUNNING: { status: 409, title: 'The job is no longer running' },
  GATEHOUSE_DELIVERY_NOT_REPLAYABLE: { status: 409, title: 'This delivery cannot be replayed' },
  GATEHOUSE_REPLAY_UNSAFE: { status: 409, title: 'A job of this delivery is running or has succeeded' },
  GATEHOUSE_BODY_TOO_LARGE: { status: 413, title: 'The body is too large' },
  GATEHOUSE_UNSUPPORTED_MEDIA_TYPE: { status: 415, title: 'Unsupported content type' },
  GATEHOUSE_IDEMPOTENCY_KEY_REUSED: { status: 422, title: 'The Idempotency-Key was used with another body' },
  GATEHOUSE_CALLBACK_NOT_ALLOWED: { status: 422, title: 'The callback URL is not on the allow-list' },
  GATEHOUSE_RATE_LIMITED: { status: 429, title: 'Too many requests' },
  GATEHOUSE_TOO_MANY_STREAMS: { status: 429, title: 'Too many open event streams' },
  GATEHOUSE_HEADERS_TOO_LARGE: { status: 431, title: 'Request header fields too large' },
  GATEHOUSE_INTERNAL: { status: 500, title: 'Internal error' },
  GATEHOUSE_TEMPORAL_UNAVAILABLE: { status: 503, title: 'The workflow service is unavailable' },
  GATEHOUSE_IDP_UNAVAILABLE: { status: 503, title: 'The identity provider is unavailable' },
  GATEHOUSE_DELIVERY_LOG_UNAVAILABLE: { status: 503, title: 'The delivery log is unavailable' },
  GATEHOUSE_STREAM_CAPACITY: { status: 503, title: 'This bridge holds all the event streams it may' },
} as const satisfies Record<string, { status: number; title: string }>;

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
