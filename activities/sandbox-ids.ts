// Each job running on a worker gets a uid and gid of its own for its checkout and steps, taken from
// ci.sandbox.uid/gid and given back when the job's attempt ends. Two jobs never share one: a step
// cannot signal, trace or read the /proc files of another job's processes (a shared /proc shows
// them all), nor fill the other's per-user process limit. Only a root worker can switch users.

export interface SandboxIdRange {
  uid: number;
  gid: number;
  ids: number;
}

/** A job's ids while it holds them; `release` gives them back. Empty ids: run as the worker. */
export interface SandboxIdLease {
  ids: { uid?: number; gid?: number };
  release(): void;
}

/** Thrown when every id of the range is held: more jobs run at once than ci.sandbox.ids allows. */
export class SandboxIdsExhausted extends Error {
  override readonly name = 'SandboxIdsExhausted';
}

export class SandboxIds {
  private readonly held = new Set<number>();
  /** Where the next search starts: ids are handed out in turn, so a released one is reused last. */
  private next = 0;

  /** `switchUser` false (a worker that is not root): every lease is the worker's own ids. */
  constructor(
    private readonly range: SandboxIdRange,
    private readonly switchUser: boolean,
  ) {}

  lease(): SandboxIdLease {
    if (!this.switchUser) return { ids: {}, release: () => {} };
    for (let tried = 0; tried < this.range.ids; tried += 1) {
      const offset = (this.next + tried) % this.range.ids;
      if (this.held.has(offset)) continue;
      this.held.add(offset);
      this.next = (offset + 1) % this.range.ids;
      let released = false;
      return {
        ids: { uid: this.range.uid + offset, gid: this.range.gid + offset },
        release: () => {
          if (!released) this.held.delete(offset);
          released = true;
        },
      };
    }
    throw new SandboxIdsExhausted(`all ${this.range.ids} sandbox ids are in use (ci.sandbox.ids)`);
  }
}
