// How the bridge's Node process is started wherever it is deployed: the image's CMD, the Compose
// service, the Helm chart's Deployment and the benchmark all run exactly this command (tests
// compare them against it).
//
// --max-semi-space-size=2 caps V8's young generation at 2 MB a semi-space instead of 16. The
// bridge's requests make short-lived garbage that a small young generation collects just as well;
// the benchmark measured its CPU per request unchanged within noise, while its resident memory at
// rest fell from about 134 MB to 110 MB, and it held fewer megabytes per idle long-poll.
// (--optimize-for-size would cut more, about 20 KB instead of 40 KB of RSS per idle long-poll,
// but cost 10-30% more CPU per request: docs/production.md, Memory.)
export const bridgeNodeFlags = ['--max-semi-space-size=2'] as const;

/** The bridge's command line, as the image runs it (from /app). */
export const bridgeCommand = ['node', ...bridgeNodeFlags, 'dist/src/server.js'] as const;
