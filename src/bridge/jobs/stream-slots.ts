// What event streams may take on one bridge: stream slots (limits.maxStreams per bridge, 503
// GATEHOUSE_STREAM_CAPACITY; limits.maxStreamsPerCaller per principal, 429
// GATEHOUSE_TOO_MANY_STREAMS) and each principal's share of the watches (the runs followed in
// Temporal, one long-poll each), so one principal following many running jobs cannot take the
// watches everyone else needs. Joining a watch that exists costs nothing and is not refused.
import { GatehouseError } from '../errors.js';

export class StreamSlots {
  private readonly perCaller = new Map<string, number>();
  /** Slots taken: open streams and those still being set up (a burst must not overshoot the cap). */
  private taken = 0;
  /** How many watches each principal is on. */
  private readonly watchesOf = new Map<string, number>();

  constructor(private readonly limits: { maxStreams: number; maxPerCaller: number; maxWatchesPerCaller: number }) {}

  /** Takes a stream slot for this caller, or refuses; the returned function gives it back once. */
  reserve(principal: string): () => void {
    if (this.taken >= this.limits.maxStreams) {
      throw new GatehouseError('GATEHOUSE_STREAM_CAPACITY', 'This bridge holds as many event streams as it may', {
        headers: { 'retry-after': '5' },
      });
    }
    const mine = this.perCaller.get(principal) ?? 0;
    if (mine >= this.limits.maxPerCaller) {
      throw new GatehouseError(
        'GATEHOUSE_TOO_MANY_STREAMS',
        `You have ${mine} event streams open; close one before opening another`,
        { headers: { 'retry-after': '10' } },
      );
    }
    this.perCaller.set(principal, mine + 1);
    this.taken += 1;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.taken -= 1;
      count(this.perCaller, principal, -1);
    };
  }

  /** Refuses a principal who already holds its share of the watches a new watch would add to. */
  checkWatchShare(principal: string): void {
    const held = this.watchesOf.get(principal) ?? 0;
    if (held < this.limits.maxWatchesPerCaller) return;
    throw new GatehouseError(
      'GATEHOUSE_TOO_MANY_STREAMS',
      `You follow ${held} running jobs on this bridge, your share; close a stream on one of them before following another`,
      { headers: { 'retry-after': '10' } },
    );
  }

  /** Counts a principal's streams on a watch (`streams`, kept by the watch), and so its watches. */
  countOn(streams: Map<string, number>, principal: string, change: 1 | -1): void {
    const before = streams.get(principal) ?? 0;
    count(streams, principal, change);
    const after = before + change;
    if ((before === 0) !== (after === 0)) count(this.watchesOf, principal, after > 0 ? 1 : -1);
  }
}

function count(counts: Map<string, number>, key: string, change: number): void {
  const after = (counts.get(key) ?? 0) + change;
  if (after > 0) counts.set(key, after);
  else counts.delete(key);
}
