// Turns "Temporal could not answer in time" into a 503 the client can retry. Every request path
// runs its Temporal calls under a deadline, so an outage answers quickly instead of hanging on the
// SDK's own ~20 s of UNAVAILABLE retries.
import { isGrpcServiceError, ServiceError } from '@temporalio/client';
import { GatehouseError } from '../errors.js';

/** gRPC status codes (a stable part of the protocol) that mean "not now" rather than "no". */
const grpcStatus = { CANCELLED: 1, DEADLINE_EXCEEDED: 4, RESOURCE_EXHAUSTED: 8, UNAVAILABLE: 14 } as const;
const retryableCodes = new Set<number>(Object.values(grpcStatus));

/** The gRPC status code behind a Temporal client error, if there is one. */
export function grpcCode(error: unknown): number | undefined {
  if (isGrpcServiceError(error)) return error.code;
  if (error instanceof ServiceError) return grpcCode(error.cause);
  return undefined;
}

export function isTemporalUnavailable(error: unknown): boolean {
  const code = grpcCode(error);
  return code !== undefined && retryableCodes.has(code);
}

export function temporalUnavailable(error: unknown, retryAfterSeconds = 5): GatehouseError {
  return new GatehouseError('GATEHOUSE_TEMPORAL_UNAVAILABLE', 'Temporal did not answer in time; retry later', {
    headers: { 'retry-after': String(retryAfterSeconds) },
    cause: error,
  });
}
