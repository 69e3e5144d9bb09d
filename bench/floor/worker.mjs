// The floor for the workers' memory and start-up (bench/scenarios/workers.ts): a minimal worker of
// Temporal's TypeScript SDK with nothing of Gatehouse, one workflow and one activity, run as the
// Gatehouse workers run (plain JavaScript, the same Node flags, a workflow bundle built before it
// starts). Arguments: the Temporal address, the task queue, the bundle's path. SIGTERM stops it.
import { NativeConnection, Worker } from '@temporalio/worker';

const [address, taskQueue, codePath] = process.argv.slice(2);
const connection = await NativeConnection.connect({ address });
const worker = await Worker.create({
  connection,
  taskQueue,
  workflowBundle: { codePath },
  activities: { echo: async (input) => input },
});
await worker.run();
await connection.close();
