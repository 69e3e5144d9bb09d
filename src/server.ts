// The HTTP process: read the environment once, build the app, listen, and close gracefully on
// SIGTERM/SIGINT (in-flight requests finish; new ones get 503 while closing).
import { buildApp } from './bridge/app.js';
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
  const shutdown = async (signal: string) => {
    app.log.info({ signal }, 'shutting down');
    await app.close();
    process.exit(0);
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));
  await app.listen(parseListen(config.server.listen));
}

await main();
