// The worker process: read the environment and arguments once, build the workers, run until
// SIGTERM/SIGINT (the SDK drains in-flight tasks before it exits).
//   node dist/src/worker.js --queues gatehouse-ci   only these queues (comma-separated, or repeated);
//                                                   without --queues, every queue in the config
//   --workflow-bundles DIR    the prebuilt workflow bundles (src/worker/bundle-workflows.ts). The
//                             compiled worker (production) loads those `npm run build` wrote beside
//                             it, dist/workflow-bundles; run from the sources (`npm run worker`,
//                             through tsx) without this flag it bundles its workflows at start.
// GATEHOUSE_WORKER_METRICS_LISTEN=host:port serves Prometheus metrics (the SDK's and the reconciler's).
// Tracing is on when the OTEL_* variables name an OTLP endpoint (src/telemetry/tracing.ts); the
// spans left are exported when the worker stops.
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Runtime } from '@temporalio/worker';
import { ConfigError, loadConfig } from './config/load-config.js';
import { secretEnvNames } from './config/worker-secrets.js';
import { startTracing } from './telemetry/tracing.js';
import { scrubEnvironment } from './worker/scrub-environment.js';
import { MissingWorkflowBundleError, prebuiltWorkflowBundle } from './worker/bundle-workflows.js';
import { createWorkers } from './worker/worker-runtime.js';

try {
  const { values } = parseArgs({
    options: { queues: { type: 'string', multiple: true }, 'workflow-bundles': { type: 'string' } },
  });
  // The SDK's own metrics and the activities' (the reconciler's), for Prometheus, when asked for.
  const metricsListen = process.env.GATEHOUSE_WORKER_METRICS_LISTEN;
  if (metricsListen !== undefined && metricsListen !== '') {
    Runtime.install({
      telemetryOptions: { metrics: { prometheus: { bindAddress: metricsListen, countersTotalSuffix: true } } },
    });
  }
  const queues = values.queues?.flatMap((value) => value.split(',').filter(Boolean));
  // The worker never sees a webhook, so it is not handed their secrets.
  const config = loadConfig(process.env, { webhookSecrets: false });
  // The secrets are read from this copy; none stays in the environment block, where
  // /proc/<pid>/environ, a child process or a crash report could find it. Done first, before
  // anything is started, so no job ever runs while they are there.
  const env = { ...process.env };
  try {
    scrubEnvironment(secretEnvNames(config));
  } catch (error) {
    throw new ConfigError(config.source, [
      `the worker cannot remove its secrets from its environment block (${(error as Error).message}); give them as files ({ file: <path> }) instead of environment variables`,
    ]);
  }
  const tracing = await startTracing(env, {
    serviceName: 'gatehouse-worker',
    warn: (message) => console.warn(message),
  });
  const compiled = import.meta.url.endsWith('.js');
  const bundleDir =
    values['workflow-bundles'] ??
    (compiled ? fileURLToPath(new URL('../workflow-bundles/', import.meta.url)) : undefined);
  const workerSet = await createWorkers(config, {
    env,
    tracing,
    ...(bundleDir === undefined ? {} : { bundle: prebuiltWorkflowBundle(bundleDir, { tracing: tracing.enabled }) }),
    ...(queues === undefined ? {} : { taskQueues: queues }),
  });
  console.log(
    `worker polling ${(queues ?? config.taskQueues).join(', ')} on ${config.temporal.address}/${config.temporal.namespace}`,
  );
  await workerSet.run();
  await tracing.shutdown();
} catch (error) {
  if (error instanceof ConfigError || error instanceof MissingWorkflowBundleError) {
    process.stderr.write(`${error.message}\n`);
    process.exit(2);
  }
  throw error;
}
