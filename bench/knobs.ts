// The bench's knobs (bench/README.md, "Knobs and profiles"), read once, by the driver, from the
// environment it is given, and the constants every scenario shares.
export interface Knobs {
  /** BENCH_SCALE: every count scaled by it (0.1: a quick look). */
  scale: number;
  /** BENCH_ROUNDS: rounds of the interleaved scenarios (3). */
  rounds: number;
  /** BENCH_ONLY: run only these scenario modules (bench/scenarios/), none of the bridge's own. */
  only: string[];
  /** BENCH_IDLE_POLLS: how many idle long-polls, whatever the scale (10,000 scaled by default). */
  idlePolls: number;
  /** BENCH_STREAMS: how many job event streams to hold open (1,000 whatever the scale: they are cheap to open). */
  streams: number;
  /** BENCH_BRIDGE_NODE_ARGS: Node flags added to the bridge's own. */
  bridgeNodeArgs: string[];
  /** A count scaled by BENCH_SCALE, never below `min`. */
  n(count: number, min?: number): number;
}

/** Clients at once in the interleaved scenarios. */
export const concurrency = 16;
/** Every call's timeout, unless a scenario says otherwise. */
export const callTimeoutMs = 10_000;
/** The idle long-polls' target count, and the default before scaling. */
export const idlePollTarget = 10_000;
/** The job event streams' target count, and the default. */
export const streamTarget = 1_000;

/** Reads the knobs; `modules` are the names BENCH_ONLY may take. */
export function readKnobs(env: NodeJS.ProcessEnv, modules: readonly string[]): Knobs {
  const scale = Number(env.BENCH_SCALE ?? 1);
  if (!(scale > 0)) throw new Error(`BENCH_SCALE must be a positive number, not ${env.BENCH_SCALE}`);
  const only = (env.BENCH_ONLY ?? '').split(',').filter(Boolean);
  const unknownModules = only.filter((name) => !modules.includes(name));
  if (unknownModules.length > 0)
    throw new Error(`BENCH_ONLY: unknown ${unknownModules.join(', ')} (known: ${modules.join(', ')})`);
  const n = (count: number, min = 20) => Math.max(min, Math.round(count * scale));
  return {
    scale,
    rounds: Math.max(1, Math.round(Number(env.BENCH_ROUNDS ?? 3))),
    only,
    idlePolls: Number(env.BENCH_IDLE_POLLS ?? 0) || n(idlePollTarget),
    streams: Number(env.BENCH_STREAMS ?? 0) || streamTarget,
    bridgeNodeArgs: (env.BENCH_BRIDGE_NODE_ARGS ?? '').split(' ').filter(Boolean),
    n,
  };
}
