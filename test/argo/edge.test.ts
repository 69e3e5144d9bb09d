// The edge's `argo` frontend (haproxy/haproxy.cfg) in front of two real Argo servers in
// `--auth-mode=client`, called as the workers call it (activities/argo.ts, with a
// ServiceAccount's token): health checks that see both servers up, consistent hashing that keeps
// one owner on one server, a server killed with SIGKILL under a load of submits costing none of
// them, a 1 MB manifest, and an answer slowed by a frozen Kubernetes API server within the
// configured timeouts.
import { appendFileSync, readFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { argoWorkflowName, createArgoActivities, labelValue, type ArgoSubmit } from '../../activities/argo.js';
import type { ArgoBed } from '../../src/dev/argo-bed/argo-bed.js';
import { describeEnd, type ManagedProcess } from '../../src/dev/managed-process.js';
import { argoFrontend, getWorkflow, listWorkflows, startTestArgoBed } from '../helpers/argo-bed.js';
import { startEdgeHarness, type EdgeHarness } from '../helpers/edge.js';
import { uniqueName } from '../helpers/gatehouse.js';

const namespace = 'ci';
let bed: ArgoBed;
let h: EdgeHarness;
let frontendUrl: string;
let token: string;

beforeAll(async () => {
  bed = await startTestArgoBed({ authModes: ['client'], namespaces: [namespace] });
  await bed.kubectl(['-n', namespace, 'apply', '--server-side', '-f', 'deploy/argo/worker-rbac.yaml']);
  token = await bed.createToken(namespace, 'gatehouse-worker');
  const frontend = await argoFrontend();
  frontendUrl = frontend.url;
  h = await startEdgeHarness({
    EDGE_ARGO_BIND: frontend.bind,
    EDGE_ARGO_1: bed.servers[0]!.address,
    EDGE_ARGO_2: bed.servers[1]!.address,
  });
}, 300_000);

afterAll(async () => {
  await h?.close();
  await bed?.stop();
});

interface ServerStat {
  status: string;
  /** Requests HAProxy sent it (health checks not counted). */
  sessions: number;
}

/** HAProxy's view of the Argo servers, from its admin socket. */
async function argoServers(): Promise<Record<'argo1' | 'argo2', ServerStat>> {
  const csv = await new Promise<string>((resolve, reject) => {
    const socket = createConnection(h.edge.adminSocket);
    let out = '';
    socket.on('data', (d: Buffer) => (out += d.toString()));
    socket.on('end', () => resolve(out));
    socket.on('error', reject);
    socket.end('show stat\n');
  });
  const stat = (name: string): ServerStat => {
    const fields =
      csv
        .split('\n')
        .find((l) => l.startsWith(`argo_servers,${name},`))
        ?.split(',') ?? [];
    return { status: fields[17] ?? 'unknown', sessions: Number(fields[7] ?? NaN) };
  };
  return { argo1: stat('argo1'), argo2: stat('argo2') };
}

const bothUp = () =>
  vi.waitFor(
    async () => {
      const servers = await argoServers();
      expect([servers.argo1.status, servers.argo2.status]).toEqual(['UP', 'UP']);
    },
    { timeout: 30_000, interval: 250 },
  );

const activities = () =>
  createArgoActivities({ url: frontendUrl, fetchTimeoutMs: 30_000, token: { reveal: () => token } });

function submission(owner: string, manifest?: Record<string, unknown>): ArgoSubmit {
  return {
    namespace,
    jobId: uniqueName('ci.edge'),
    route: 'ci',
    owner,
    repository: 'acme/app',
    sha: 'a'.repeat(40),
    manifest: manifest ?? {
      spec: {
        entrypoint: 'main',
        templates: [{ name: 'main', container: { name: '', image: 'alpine:3', command: ['true'] } }],
      },
    },
  };
}

/**
 * Logs the API server's resident memory and the machine's available memory before the freeze:
 * should it be killed while frozen, the log shows whether memory was short.
 */
function logMemoryBeforeFreeze(pid: number): void {
  const kilobytes = (file: string, field: string) =>
    new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(readFileSync(file, 'utf8'))?.[1] ?? '?';
  const resident = kilobytes(`/proc/${pid}/status`, 'VmRSS');
  const available = kilobytes('/proc/meminfo', 'MemAvailable');
  appendFileSync(
    process.env.GATEHOUSE_TEST_LOG ?? '/dev/null',
    `${new Date().toISOString()} freezing kube-apiserver (pid ${pid}): VmRSS ${resident} kB, MemAvailable ${available} kB\n`,
  );
}

/** SIGCONT for a process frozen with SIGSTOP, or an error naming how it ended while frozen. */
function thaw(frozen: ManagedProcess, pid: number): void {
  // Node reaps its child and records the end in the same callback, so a process that is gone has
  // its record here; its pid may already be another process's, so it is not signalled then.
  const end = frozen.lastEnd;
  if (end !== undefined) throw new Error(`Frozen with SIGSTOP, ${describeEnd(end)}; its log: ${frozen.logFile}`);
  process.kill(pid, 'SIGCONT');
}

async function list(owner: string): Promise<number> {
  const answer = await fetch(`${frontendUrl}/api/v1/workflows/${namespace}?listOptions.limit=1`, {
    headers: { 'x-gatehouse-owner': owner, authorization: `Bearer ${token}` },
  });
  return answer.status;
}

describe("the edge's Argo frontend with two real Argo servers", () => {
  it('health-checks both servers up in client auth mode and keeps one owner on one server', async () => {
    await bothUp();
    const before = await argoServers();
    for (let i = 0; i < 10; i += 1) expect(await list('alice')).toBe(200);
    const after = await argoServers();
    const grew = [after.argo1.sessions - before.argo1.sessions, after.argo2.sessions - before.argo2.sessions];
    expect(grew.sort()).toEqual([0, 10]);

    // Other owners hash to both.
    const spread = await argoServers();
    for (let i = 0; i < 20; i += 1) expect(await list(`owner-${i}`)).toBe(200);
    const end = await argoServers();
    expect(end.argo1.sessions).toBeGreaterThan(spread.argo1.sessions);
    expect(end.argo2.sessions).toBeGreaterThan(spread.argo2.sessions);
  });

  it('loses no submit when one Argo server is killed under load (retry on conn-failure, redispatch, health checks)', async () => {
    await bothUp();
    const victim = bed.servers[0]!;
    const submit = activities();
    const inputs = Array.from({ length: 40 }, (_, i) => submission(`load-owner-${i % 8}`));
    const results: Array<Promise<unknown>> = [];
    for (const [index, input] of inputs.entries()) {
      if (index === 15) await victim.kill();
      results.push(submit.submitArgoWorkflow(input));
      await new Promise((r) => setTimeout(r, 100));
    }
    const settled = await Promise.allSettled(results);
    expect(settled.filter((r) => r.status === 'rejected')).toEqual([]);
    expect((await argoServers()).argo1.status).toMatch(/DOWN/);
    for (const input of inputs) {
      const stored = await listWorkflows(bed, namespace, `gatehouse.dev/job=${labelValue(input.jobId)}`);
      expect(stored.map((w) => w.metadata.name)).toEqual([argoWorkflowName(input.jobId)]);
    }
    await victim.start();
    await bothUp();
  });

  it('passes a 1 MB manifest through to Argo, which runs it', async () => {
    // A large generated workflow: a hundred templates of about 10 KB, of which the entrypoint runs
    // one. Fewer, larger templates than a thousand small ones: what Kubernetes adds to each
    // template counts towards Argo's own limit of 1 MiB on a stored Workflow ("workflow is
    // longer than maximum allowed size"), which a thousand templates crossed.
    const filler = 'x'.repeat(10_000);
    const templates = [
      // A command: without one Argo asks the image's registry for its entrypoint.
      { name: 'main', container: { name: '', image: 'alpine:3', command: ['true'] } },
      ...Array.from({ length: 100 }, (_, i) => ({
        name: `generated-${i}`,
        container: { name: '', image: 'alpine:3', args: [filler] },
      })),
    ];
    const input = submission('big-owner', { spec: { entrypoint: 'main', templates } });
    expect(JSON.stringify(input.manifest).length).toBeGreaterThan(1_000_000);
    expect(JSON.stringify(input.manifest).length).toBeLessThan(1_010_000);
    const outcome = await activities().submitArgoWorkflow(input);
    await vi.waitFor(
      async () => expect((await getWorkflow(bed, namespace, outcome.name)).status?.phase).toBe('Succeeded'),
      { timeout: 60_000, interval: 500 },
    );
  });

  it('waits for a slow answer within its timeouts: the Kubernetes API frozen for 15 s, the submit answered once', async () => {
    await bothUp();
    const before = await argoServers();
    const input = submission('patient-owner');
    const apiServer = bed.apiServer.pid!;
    logMemoryBeforeFreeze(apiServer);
    const began = Date.now();
    process.kill(apiServer, 'SIGSTOP');
    let outcome: Promise<unknown>;
    try {
      outcome = activities().submitArgoWorkflow(input);
      outcome.catch(() => {});
      await new Promise((r) => setTimeout(r, 15_000));
    } finally {
      thaw(bed.apiServer, apiServer);
    }
    await expect(outcome).resolves.toMatchObject({ name: argoWorkflowName(input.jobId) });
    expect(Date.now() - began).toBeGreaterThanOrEqual(15_000);
    const after = await argoServers();
    // One request for the submit and one to read it back: nothing was retried.
    expect(after.argo1.sessions + after.argo2.sessions - before.argo1.sessions - before.argo2.sessions).toBe(2);
  });
});
