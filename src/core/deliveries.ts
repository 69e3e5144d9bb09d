// The delivery log's vocabulary: one record per webhook request that reached the bridge (and one
// per redelivery the reconciler asked a provider for), what became of it, and the job it started.
// The stores (src/deliveries/) keep these; the bridge writes them, admins read and replay them,
// and the reconciler asks which of a provider's deliveries the log has seen.
import type { GitEvent } from './git-event.js';

export const deliveryOutcomes = [
  /** A job was started. */
  'accepted',
  /** The same signed body (or delivery) already started its job; nothing new was started. */
  'duplicate',
  /** Verified, but ping or no rule matched: `reason` says which. */
  'ignored',
  /** Refused: `reason` is bad_signature, malformed, too_large or another stable reason. */
  'rejected',
  /** Verified, but Temporal could not take the start (503): the provider should try again. */
  'unavailable',
  /** The reconciler asked the provider to send a delivery again. */
  'redelivery_requested',
] as const;
export type DeliveryOutcome = (typeof deliveryOutcomes)[number];

export const deliveryOrigins = ['provider', 'replay', 'reconciler'] as const;
export type DeliveryOrigin = (typeof deliveryOrigins)[number];

export interface DeliveryRecord {
  /** Gatehouse's own id: time-ordered, so the newest sort first (see newDeliveryRecordId). */
  id: string;
  receivedAt: string;
  provider: string;
  hook: string;
  /** The provider's delivery id header (unsigned: a hint, not proof), bounded. */
  deliveryId: string | null;
  event: string | null;
  repository: string | null;
  outcome: DeliveryOutcome;
  /** Why it was ignored or rejected (stable, lower-case), or what the reconciler saw. */
  reason: string | null;
  detail: string | null;
  /** The HTTP status the bridge answered (null for reconciler records). */
  status: number | null;
  jobId: string | null;
  runId: string | null;
  route: string | null;
  bodySha256: string | null;
  bodyBytes: number | null;
  origin: DeliveryOrigin;
  /** Replays: the record replayed. */
  replayOf: string | null;
  /** Replays: the admin's principal. */
  requestedBy: string | null;
  /**
   * Set on a record kept as a sample: a request anybody could send again at will (unauthenticated,
   * or a signed body this hook had already recorded): the headers that identify its sender and
   * its address, never a body or a signature. Samples have their own cap in the store, and never
   * count as seen.
   */
  sample: { headers: Record<string, string>; clientAddress: string } | null;
  /**
   * The verified, normalized event (the workflow input), kept so the delivery can be replayed.
   * Only deliveries whose signature verified have one.
   */
  gitEvent: GitEvent | null;
}

/** What a new record says: who sent what, and what became of it; every field left out is null. */
export type DeliveryRecordFields = Pick<
  DeliveryRecord,
  'id' | 'receivedAt' | 'provider' | 'hook' | 'outcome' | 'origin'
> &
  Partial<Omit<DeliveryRecord, 'id' | 'receivedAt' | 'provider' | 'hook' | 'outcome' | 'origin'>>;

/** The one constructor of a new delivery record (the intake's, the reconciler's); a replay's copies the record it replays. */
export function deliveryRecord(fields: DeliveryRecordFields): DeliveryRecord {
  return {
    id: fields.id,
    receivedAt: fields.receivedAt,
    provider: fields.provider,
    hook: fields.hook,
    deliveryId: fields.deliveryId ?? null,
    event: fields.event ?? null,
    repository: fields.repository ?? null,
    outcome: fields.outcome,
    reason: fields.reason ?? null,
    detail: fields.detail ?? null,
    status: fields.status ?? null,
    jobId: fields.jobId ?? null,
    runId: fields.runId ?? null,
    route: fields.route ?? null,
    bodySha256: fields.bodySha256 ?? null,
    bodyBytes: fields.bodyBytes ?? null,
    origin: fields.origin,
    replayOf: fields.replayOf ?? null,
    requestedBy: fields.requestedBy ?? null,
    sample: fields.sample ?? null,
    gitEvent: fields.gitEvent ?? null,
  };
}

export interface DeliveryQuery {
  provider?: string;
  hook?: string;
  outcome?: DeliveryOutcome;
  repository?: string;
  deliveryId?: string;
  /** Records received at or after this instant (ISO 8601). */
  since?: string;
  /** Paging: records with ids before (older than) this one. */
  before?: string;
  limit: number;
}

/** How many records, and how many samples, a log keeps at most. */
export interface DeliveryLogCaps {
  records: number;
  samples: number;
}

/** A store of delivery records, shared by every bridge replica when it is PostgreSQL. */
export interface DeliveryLog {
  readonly kind: 'memory' | 'postgres';
  /** Adds records; a record whose id is already there is left as it is. */
  append(records: readonly DeliveryRecord[]): Promise<void>;
  /** Newest first. */
  list(query: DeliveryQuery): Promise<DeliveryRecord[]>;
  get(id: string): Promise<DeliveryRecord | undefined>;
  /**
   * Of these provider delivery ids, those whose delivery reached this hook: the id of the first
   * verified record of each body (see countsAsSeen in src/deliveries/records.ts). The same signed
   * body sent again under other delivery ids makes none of them seen.
   */
  seen(provider: string, hook: string, deliveryIds: readonly string[]): Promise<Set<string>>;
  /**
   * Drops records older than `olderThan`, then the oldest records beyond `keep.records` and the
   * oldest samples beyond `keep.samples` (each counted apart); returns how many went.
   */
  prune(olderThan: Date, keep: DeliveryLogCaps): Promise<number>;
  close(): Promise<void>;
}

const idPattern = /^d[0-9a-z]{9}[0-9a-f]{12}$/;

/**
 * `d` + the time in base-36 milliseconds (9 digits, so they sort as text until the year 5188) +
 * 12 random hex digits. `random` supplies the hex (the caller's randomness: core is pure).
 */
export function newDeliveryRecordId(now: Date, randomHex: string): string {
  return `d${now.getTime().toString(36).padStart(9, '0')}${randomHex.slice(0, 12).padEnd(12, '0')}`;
}

export function isDeliveryRecordId(value: string): boolean {
  return idPattern.test(value);
}

/** The store cannot be reached now (PostgreSQL down or still starting): try again later. */
export class DeliveryLogUnavailable extends Error {
  override readonly name = 'DeliveryLogUnavailable';
}
