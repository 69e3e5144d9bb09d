// The environment every Gatehouse Node process runs with, wherever it is deployed: the image sets
// it (the Dockerfile's ENV, which Compose and the chart inherit), and the dev stack, the cluster
// test bed and the benchmark start their bridges and workers with it (tests compare the
// Dockerfile against it).
//
// MALLOC_ARENA_MAX=2: glibc's malloc gives threads that allocate at once arenas of their own, up to
// eight per core, and memory freed in one arena is neither used by another nor given back to the
// system. A worker runs 16 threads (the Temporal core's Rust runtime, V8's and libuv's), a bridge
// about ten. Two arenas, measured on the 2-core machine: the policy worker at rest 173 → 151 MB
// and the CI worker on its embedded ledger 210-221 → 195-198 MB (both traced, as `npm run dev`
// runs them), and the bridge holding 10,000 idle long-polls 8-14 MB less, for the same CPU per
// request and per job within the benchmark's noise (docs/production.md).
export const nodeEnvironment = { MALLOC_ARENA_MAX: '2' } as const;
