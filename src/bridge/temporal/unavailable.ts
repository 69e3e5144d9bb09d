// Temporal unable to answer, as the bridge answers it: a 503 the client can retry, never the
// caller's fault. Recognising it is the Temporal layer's (src/temporal/unavailable.ts).
import { asTemporalUnavailable } from '../../temporal/unavailable.js';
import { GatehouseError } from '../errors.js';

/** The 503 for `error`, which isTemporalUnavailable recognised. */
export function temporalUnavailable(error: unknown, retryAfterSeconds = 5): GatehouseError {
  const { refused } = asTemporalUnavailable(error);
  const detail = refused ? 'Temporal is unavailable; retry later' : 'Temporal did not answer in time; retry later';
  return new GatehouseError('GATEHOUSE_TEMPORAL_UNAVAILABLE', detail, {
    headers: { 'retry-after': String(retryAfterSeconds) },
    cause: error,
  });
}
