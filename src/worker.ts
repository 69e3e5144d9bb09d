// The worker process: read the environment once, build the workers, run until SIGTERM/SIGINT
// (the SDK drains in-flight tasks before it exits).
import { ConfigError, loadConfig } from './config/load-config.js';
import { createWorkers } from './worker-runtime.js';

try {
  // The worker never sees a webhook, so it is not handed their secrets.
  const config = loadConfig(process.env, { webhookSecrets: false });
  const workerSet = await createWorkers(config, { env: process.env });
  console.log(`worker polling ${config.taskQueues.join(', ')} on ${config.temporal.address}/${config.temporal.namespace}`);
  await workerSet.run();
} catch (error) {
  if (error instanceof ConfigError) {
    process.stderr.write(`${error.message}\n`);
    process.exit(2);
  }
  throw error;
}
