// The real Argo test bed (src/dev/argo-bed/argo-bed.ts) for one test file: its directory beside the
// file's log (.data/test-logs/<file>.argo-bed/, its processes' logs in logs/), named in the file's
// log so a failing run says where to look, as is every end of a process the bed exposes (how it
// ended, and whether the bed or a test asked); etcd's data is removed after the file, the logs kept.
import { appendFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { startArgoBed, type ArgoBed, type ArgoBedOptions } from '../../src/dev/argo-bed/argo-bed.js';
import { describeEnd } from '../../src/dev/managed-process.js';
import { freePort } from '../../src/dev/temporal-dev-server.js';
import { logFileFor } from './log-files.js';

export async function startTestArgoBed(options: Omit<ArgoBedOptions, 'dir'> = {}): Promise<ArgoBed> {
  const dir = `${logFileFor(expect.getState().testPath ?? 'unknown').replace(/\.log$/, '')}.argo-bed`;
  rmSync(dir, { recursive: true, force: true });
  const log = (line: string) => appendFileSync(process.env.GATEHOUSE_TEST_LOG ?? '/dev/null', `argo bed: ${line}\n`);
  log(`in ${dir} (process logs in ${join(dir, 'logs')})`);
  const bed = await startArgoBed({ ...options, dir, say: (line) => log(`starting ${line}`) });
  // A part ended by something else (a SIGKILL from outside, a crash) is then named in the log the
  // summary reporter prints for a failing file, not only in that part's own log (the only place for
  // the parts the bed does not expose: scheduler, controller manager, kwok).
  for (const part of [bed.etcd, bed.apiServer, bed.controller, ...bed.servers])
    part.onEnd((end) => log(describeEnd(end)));
  return {
    ...bed,
    async stop() {
      await bed.stop();
      rmSync(join(dir, 'etcd'), { recursive: true, force: true });
      log(`stopped; process logs in ${join(dir, 'logs')}`);
    },
  };
}

/** The edge's Argo frontend address, chosen before the edge and the workers' config are made. */
export async function argoFrontend(): Promise<{ bind: string; url: string }> {
  const bind = `127.0.0.1:${await freePort()}`;
  return { bind, url: `http://${bind}` };
}

/** The Workflow as Kubernetes stores it. */
export async function getWorkflow(bed: ArgoBed, namespace: string, name: string): Promise<ArgoWorkflowObject> {
  return JSON.parse(await bed.kubectl(['-n', namespace, 'get', 'workflow', name, '-o', 'json'])) as ArgoWorkflowObject;
}

/** The Workflows carrying this label selector. */
export async function listWorkflows(bed: ArgoBed, namespace: string, selector: string): Promise<ArgoWorkflowObject[]> {
  const list = JSON.parse(await bed.kubectl(['-n', namespace, 'get', 'workflows', '-l', selector, '-o', 'json'])) as {
    items: ArgoWorkflowObject[];
  };
  return list.items;
}

export interface ArgoWorkflowObject {
  metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec: {
    shutdown?: string;
    workflowTemplateRef?: { name: string };
    arguments?: { parameters?: Array<{ name: string; value?: string }> };
  };
  status?: { phase?: string; message?: string; progress?: string };
}
