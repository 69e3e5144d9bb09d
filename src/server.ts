// The HTTP process: read the environment once, build the app, listen, and close gracefully on
// SIGTERM/SIGINT: first /readyz turns 503 for server.drainDelay while requests are still served
// (the edge's health check stops sending), then in-flight requests finish and the process exits.
// Metrics listen on their own internal address (server.metricsListen). Tracing is on when the
// OTEL_* variables name an OTLP endpoint (src/telemetry/tracing.ts); spans left are exported on stop.
import { buildApp } from './bridge/app.js';
import { startMetricsServer } from './bridge/http/metrics-server.js';
import { ConfigError, loadConfig } from './config/load-config.js';
import { durationMs } from './config/duration.js';
import { parseListen } from './config/listen.js';
import { startTracing, type Tracing } from './telemetry/tracing.js';

async function main(): Promise<void> {
  let config;
  let tracing: Tracing;
  // The SDK's warnings (a failed export) go to the bridge's log once it exists.
  let warn = (message: string): void => void process.stderr.write(`${message}\n`);
  try {
    config = loadConfig(process.env);
    tracing = await startTracing(process.env, { serviceName: 'gatehouse-bridge', warn: (message) => warn(message) });
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  const app = await buildApp(config, { tracing });
  warn = (message) => app.log.warn(message);
  await app.ready();
  const metrics = await startMetricsServer(app.metrics.registry, parseListen(config.server.metricsListen));
  app.log.info({ metrics: metrics.address }, 'metrics listening');
  const shutdown = async (signal: string) => {
    const drainMs = durationMs(config.server.drainDelay);
    app.log.info({ signal, drainMs }, 'draining, then shutting down');
    app.lifecycle.draining = true;
    // Streams end now, with a spread retry, before the edge marks this bridge down and cuts them.
    app.jobs.drainStreams();
    if (drainMs > 0) await new Promise((done) => setTimeout(done, drainMs));
    await app.close();
    await metrics.close();
    await tracing.shutdown();
    process.exit(0);
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));
  await app.listen(parseListen(config.server.listen));
}

await main();
