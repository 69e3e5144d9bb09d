// Recognising a Temporal that cannot answer now: an outage, a deadline passed, or Temporal refusing
// this process's own credentials. None of these is the caller's fault; the bridge answers them as a
// retryable 503 and the event streams wait them out.
import { isGrpcServiceError, ServiceError } from '@temporalio/client';
import { NamespaceNotFoundError } from '@temporalio/common';

/** gRPC status codes (a stable part of the protocol) that mean "not now" rather than "no". */
const grpcStatus = { CANCELLED: 1, DEADLINE_EXCEEDED: 4, RESOURCE_EXHAUSTED: 8, UNAVAILABLE: 14 } as const;
/**
 * Temporal refusing this process's own credentials (a revoked API key, a namespace the key may not
 * use). The caller's identity never reaches Temporal, so the service is unavailable to everyone
 * until an operator fixes it.
 */
const credentialCodes = { PERMISSION_DENIED: 7, UNAUTHENTICATED: 16 } as const;
const retryableCodes = new Set<number>([...Object.values(grpcStatus), ...Object.values(credentialCodes)]);

/** Thrown when Temporal could not answer within a call's budget, or refused this process's credentials. */
export class TemporalUnavailable extends Error {
  override readonly name = 'TemporalUnavailable';
  /** Temporal answered, and refused us (credentials, or our namespace reported missing): not a timeout. */
  readonly refused: boolean;

  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, options);
    this.refused = isRefusal(options.cause);
  }
}

/** The gRPC status code behind a Temporal client error, if there is one. */
export function grpcCode(error: unknown): number | undefined {
  if (isGrpcServiceError(error)) return error.code;
  if (error instanceof ServiceError) return grpcCode(error.cause);
  return undefined;
}

/** Whether `error` means Temporal cannot answer now: ours (TemporalUnavailable) or the SDK's own. */
export function isTemporalUnavailable(error: unknown): boolean {
  if (error instanceof TemporalUnavailable) return true;
  const code = grpcCode(error);
  return (code !== undefined && retryableCodes.has(code)) || isOwnNamespaceMissing(error);
}

/** The SDK's error as a TemporalUnavailable (itself when it already is one). */
export function asTemporalUnavailable(error: unknown): TemporalUnavailable {
  if (error instanceof TemporalUnavailable) return error;
  return new TemporalUnavailable('Temporal did not answer in time', { cause: error });
}

function isRefusal(error: unknown): boolean {
  return Object.values<number>(credentialCodes).includes(grpcCode(error) ?? -1) || isOwnNamespaceMissing(error);
}

/**
 * This process's own namespace reported missing. A frontend whose namespace cache is empty after a
 * restart, or whose database is restarting, says so for a moment (seen on the cluster test bed
 * during a PostgreSQL restart); a namespace that is really missing is an operator's error.
 */
function isOwnNamespaceMissing(error: unknown): boolean {
  if (error instanceof NamespaceNotFoundError) return true;
  return error instanceof Error && isOwnNamespaceMissing(error.cause);
}
