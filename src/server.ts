// The HTTP process: read the environment once, build the app, listen, and close gracefully on
// SIGTERM/SIGINT (in-flight requests finish; new ones get 503 while closing). Metrics listen on
// their own internal address (server.metricsListen).
import { buildApp } from './bridge/app.js';
import { startMetricsServer } from './bridge/http/metrics-server.js';
import { ConfigError, loadConfig } from './config/load-config.js';
import { parseListen } from './config/listen.js';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  const app = await buildApp(config);
  await app.ready();
  const metrics = await startMetricsServer(app.metrics.registry, parseListen(config.server.metricsListen));
  app.log.info({ metrics: metrics.address }, 'metrics listening');
  const shutdown = async (signal: string) => {
    app.log.info({ signal }, 'shutting down');
    await app.close();
    await metrics.close();
    process.exit(0);
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));
  await app.listen(parseListen(config.server.listen));
}

await main();
