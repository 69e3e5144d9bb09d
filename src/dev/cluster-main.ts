// `npm run cluster`: the scale-out test bed (src/dev/cluster-stack.ts) on this machine, then how to
// call it. State (PostgreSQL with Temporal's and the ledger's databases) stays in .data/cluster;
// --fresh starts from nothing. --argo (`npm run argo`) adds a real Argo Workflows behind the edge
// (docs/argo.md), started afresh each time. Ctrl-C stops everything.
import { rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { startClusterStack } from './cluster-stack.js';
import { temporalCli } from './temporal-dev-server.js';

const dir = resolve('.data/cluster');
if (process.argv.includes('--fresh')) rmSync(dir, { recursive: true, force: true });
const withArgo = process.argv.includes('--argo');
// The Argo bed keeps nothing between runs (its etcd is fresh, its certificates new).
if (withArgo) rmSync(join(dir, 'argo'), { recursive: true, force: true });

const started = Date.now();
const stack = await startClusterStack({
  dir,
  argo: withArgo,
  say: (line) => console.log(`cluster: starting ${line}`),
});
let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  console.log('cluster: stopping');
  await stack.stop();
  process.exit(0);
};
process.once('SIGINT', () => void stop());
process.once('SIGTERM', () => void stop());

const token = await stack.issuer.mint({ sub: 'dev-user', groups: ['maintainers'] }, { expiresIn: 8 * 3600 });
const ca = stack.edgeCaFile;
const body =
  '{"action":{"type":"Gatehouse::Action","id":"deploy"},"resource":{"type":"Gatehouse::Repository","id":"acme/api"}}';
console.log(`
Gatehouse cluster test bed is up (${Math.round((Date.now() - started) / 1000)} s).
  edge        ${stack.edgeUrl}   (HAProxy in front of ${stack.bridges.length} bridges; CA ${ca})
  temporal    ${stack.temporal.address}   (HAProxy over ${stack.temporal.servers.map((s) => `${s.name} ${s.frontend}`).join(', ')})
  postgresql  ${stack.postgres.url}   (Temporal: temporal, temporal_visibility; ledger: gatehouse_ledger)
  workers     ${Object.keys(stack.workers).join(', ')}
  logs        ${join(stack.dir, 'logs')} and ${join(stack.dir, 'temporal')}

A token for "dev-user" (group maintainers), valid 8 hours:
  export TOKEN=${token}

Start a job and wait for it:
  curl -s --cacert ${ca} -X POST ${stack.edgeUrl}/v1/jobs/policy-check -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' -H 'Idempotency-Key: first-job' -d '${body}'
  curl -s --cacert ${ca} "${stack.edgeUrl}/v1/jobs/<jobId>?wait=10" -H "Authorization: Bearer $TOKEN"
  ${temporalCli()} workflow list --address ${stack.temporal.address}

Webhooks (content type application/json, with the secret shown):
${Object.entries(stack.webhookSecrets)
  .map(([name, value]) => `  ${stack.edgeUrl}/v1/webhooks/${name.split('_')[1]!.toLowerCase()}   ${name}=${value}`)
  .join('\n')}

Kill a Temporal server process and watch the other take its shards:
  kill -9 <pid of ${stack.temporal.servers[0]!.name}>   (ps -ef | grep temporal-server)

Ctrl-C stops everything.`);

if (stack.argo !== undefined) {
  const { bed, frontendUrl, namespace } = stack.argo;
  const owner = "-H 'X-Gatehouse-Owner: dev-user'";
  const submit = JSON.stringify({
    resourceKind: 'WorkflowTemplate',
    resourceName: 'build',
    submitOptions: { parameters: ['repository=acme/app', 'revision=0123abc'] },
  });
  console.log(`
Argo Workflows ${bed.versions['argo-workflows']} on Kubernetes ${bed.versions.kubernetes} (a test bed: docs/argo.md)
  argo frontend  ${frontendUrl}   (the edge, over ${bed.servers.map((s) => `${s.name} ${s.url}`).join(', ')})
  kubernetes     ${bed.apiServerUrl}   (kubeconfig ${bed.adminKubeconfig})
  logs           ${join(bed.dir, 'logs')}

Through the edge, as the workers call it (server auth mode: no token needed here):
  curl -s -X POST ${frontendUrl}/api/v1/workflows/${namespace}/submit ${owner} -H 'Content-Type: application/json' -d '${submit}'
  curl -s "${frontendUrl}/api/v1/workflows/${namespace}?fields=items.metadata.name,items.status.phase" ${owner}
  ${bed.bin('kubectl')} --kubeconfig ${bed.adminKubeconfig} -n ${namespace} get workflows

CI jobs for argo/* repositories run the WorkflowTemplate "build" in namespace ${namespace} (the commit
must be in a repository the config's ci.webUrls reach). Kill an Argo server and the edge fails over:
  kill -9 ${bed.servers[0]!.pid}   (${bed.servers[0]!.name})`);
}
