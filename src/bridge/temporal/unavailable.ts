// Turns "Temporal could not answer in time" into a 503 the client can retry. Every request path
// runs its Temporal calls under a deadline, so an outage answers quickly instead of hanging on the
// SDK's own ~20 s of UNAVAILABLE retries.
import { isGrpcServiceError, ServiceError } from '@temporalio/client';
import { NamespaceNotFoundError } from '@temporalio/common';
import { GatehouseError } from '../errors.js';

/** gRPC status codes (a stable part of the protocol) that mean "not now" rather than "no". */
const grpcStatus = { CANCELLED: 1, DEADLINE_EXCEEDED: 4, RESOURCE_EXHAUSTED: 8, UNAVAILABLE: 14 } as const;
/**
 * Temporal refusing the bridge's own credentials (a revoked API key, a namespace the key may not
 * use). The caller's identity never reaches Temporal, so this is no fault of the caller's: the
 * service is unavailable to everyone until an operator fixes it, and it is logged as a 503.
 */
const credentialCodes = { PERMISSION_DENIED: 7, UNAUTHENTICATED: 16 } as const;
const retryableCodes = new Set<number>([...Object.values(grpcStatus), ...Object.values(credentialCodes)]);

/** The gRPC status code behind a Temporal client error, if there is one. */
export function grpcCode(error: unknown): number | undefined {
  if (isGrpcServiceError(error)) return error.code;
  if (error instanceof ServiceError) return grpcCode(error.cause);
  return undefined;
}

/**
 * The bridge's own namespace reported missing. A frontend whose namespace cache is empty after a
 * restart, or whose database is restarting, says so for a moment (seen on the cluster test bed
 * during a PostgreSQL restart); a namespace that is really missing is an operator's error. Neither
 * is the caller's: a 503, logged, like any other outage.
 */
function isOwnNamespaceMissing(error: unknown): boolean {
  if (error instanceof NamespaceNotFoundError) return true;
  return error instanceof Error && isOwnNamespaceMissing(error.cause);
}

export function isTemporalUnavailable(error: unknown): boolean {
  const code = grpcCode(error);
  return (code !== undefined && retryableCodes.has(code)) || isOwnNamespaceMissing(error);
}

/** Whether `error` is the bridge's own 503 for want of Temporal (temporalUnavailable's answer). */
export function isTemporalUnavailableAnswer(error: unknown): error is GatehouseError {
  return error instanceof GatehouseError && error.code === 'GATEHOUSE_TEMPORAL_UNAVAILABLE';
}

export function temporalUnavailable(error: unknown, retryAfterSeconds = 5): GatehouseError {
  const refused =
    Object.values<number>(credentialCodes).includes(grpcCode(error) ?? -1) || isOwnNamespaceMissing(error);
  const detail = refused ? 'Temporal is unavailable; retry later' : 'Temporal did not answer in time; retry later';
  return new GatehouseError('GATEHOUSE_TEMPORAL_UNAVAILABLE', detail, {
    headers: { 'retry-after': String(retryAfterSeconds) },
    cause: error,
  });
}
