// Operator commands. `check-config`: load and check the config as the bridge would (same
// environment overrides), print the route table, exit 2 on any problem. For CI and deploy hooks.
import { ConfigError, loadConfig } from './config/load-config.js';

const [command] = process.argv.slice(2);

if (command === 'check-config') {
  try {
    const config = loadConfig(process.env);
    console.log(`${config.source}: ok`);
    for (const [name, route] of Object.entries(config.routes)) {
      console.log(`  POST /v1/jobs/${name} -> ${route.workflowType} on ${route.taskQueue}`);
    }
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(error.message);
    process.exit(2);
  }
} else {
  console.error('usage: gatehouse check-config   (GATEHOUSE_CONFIG names the file)');
  process.exit(64);
}
