// How a worker's Node process is started wherever it is deployed: the Compose services, the Helm
// chart's Deployments and the benchmark run exactly this command for a queue (tests compare them
// against it), compiled, with the workflow bundles `npm run build` wrote beside it.
//
// --max-semi-space-size=2: a 2 MB young generation instead of V8's 16 MB, in each of the worker's
// two V8 isolates (the main thread and the workflow thread), as in the bridge (bridge-process.ts).
// --liftoff-only: WebAssembly (Cedar on a policy queue, the embedded PGlite ledger on a CI queue)
// runs on V8's baseline compiler and is never recompiled by TurboFan. Tiering up kept both
// compilations resident: about 50 MB for Cedar and 45 MB for PGlite, measured, for the same CPU
// time per policy decision within noise; the ledger also opens in half the time.
// --no-turbo-inline-js-wasm-calls: TurboFan does not inline the calls from JavaScript into
// WebAssembly. With them inlined, Node 20's V8 (11.3) aborted a policy worker under a steady load
// of Cedar decisions ("Fatal error: unreachable code" in Deoptimizer::DoComputeBuiltinContinuation,
// a lazy deoptimization after a call into Wasm): in three of four soaks of 32 jobs at once (150 s
// each) and in both policy runs of one bench. With the flag, none of three soaks did, at the same
// throughput.
// (docs/production.md, "Workers: memory and the knobs to size".)
export const workerNodeFlags = [
  '--max-semi-space-size=2',
  '--liftoff-only',
  '--no-turbo-inline-js-wasm-calls',
] as const;

/** The worker's command line for one task queue, as the image runs it (from /app). */
export function workerCommand(queue: string): string[] {
  return ['node', ...workerNodeFlags, 'dist/src/worker.js', '--queues', queue];
}
