// The Helm chart (deploy/helm/gatehouse) installed for real: `helm install --wait` into the Argo
// test bed's Kubernetes API server (v1.34), which validates every object server-side and admits
// them (RBAC, NetworkPolicies, the Secrets the chart names), its controller manager turning the
// Deployments into pods and kwok running them; then one `helm upgrade` that rolls the pods. The
// bed has no cloud: the test gives the edge's LoadBalancer Service its address, as a cloud's
// load-balancer controller would, since `helm --wait` waits for one.
// The namespace enforces Pod Security baseline. test/tools/helm-chart.test.ts checks the rendered
// objects without a cluster.
import { execFile, execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { ArgoBed } from '../../src/dev/argo-bed/argo-bed.js';
import { makeDevCertificate } from '../../src/dev/edge-process.js';
import { startTestArgoBed } from '../helpers/argo-bed.js';

const chart = 'deploy/helm/gatehouse';
const namespace = 'gatehouse';

// ── Pod Security for the chart's namespace ─────────────────────────────────────────────────────
// The namespace enforces Pod Security `baseline`, as many production clusters do: every pod of the
// chart, the CI worker's included (Localhost seccomp and AppArmor profiles, the default /proc
// mount), must be admitted by the API server's own PodSecurity admission. GATEHOUSE_TEST_POD_SECURITY
// tries another level (`restricted`: the CI worker, root with four capabilities, is refused).
const podSecurityLevel = process.env.GATEHOUSE_TEST_POD_SECURITY ?? 'baseline';
const namespaceLabels: Record<string, string> = {
  'pod-security.kubernetes.io/enforce': podSecurityLevel,
  'pod-security.kubernetes.io/enforce-version': 'v1.34',
};
// ───────────────────────────────────────────────────────────────────────────────────────────────

let bed: ArgoBed;
let helm: (args: string[]) => Promise<string>;

interface Deployment {
  metadata: { name: string; generation: number };
  spec: { replicas: number; template: { metadata: { annotations?: Record<string, string> } } };
  status: { availableReplicas?: number; updatedReplicas?: number; observedGeneration?: number };
}
interface Service {
  metadata: { name: string };
  spec: { type: string };
  status?: { loadBalancer?: { ingress?: unknown[] } };
}
interface Pod {
  metadata: { name: string; labels: Record<string, string>; annotations?: Record<string, string> };
  spec: { nodeName?: string };
  status: { phase: string };
}

const items = async <T>(kind: string): Promise<T[]> =>
  (JSON.parse(await bed.kubectl(['-n', namespace, 'get', kind, '-o', 'json'])) as { items: T[] }).items;

beforeAll(async () => {
  bed = await startTestArgoBed({ servers: [] });
  const helmBinary = execFileSync('bash', ['scripts/install-helm.sh'], { encoding: 'utf8' }).trim().split('\n').at(-1)!;
  // Not execFileSync: the test answers for the cloud while helm waits.
  helm = async (args) =>
    (
      await promisify(execFile)(helmBinary, ['--kubeconfig', bed.adminKubeconfig, '-n', namespace, ...args], {
        encoding: 'utf8',
        maxBuffer: 16 * 1024 * 1024,
      })
    ).stdout;
  await bed.createNamespace(namespace, namespaceLabels);
  // The Secrets the default values name (values.yaml: secretEnv, bridge.secretEnv, edge.tls).
  const tls = makeDevCertificate(join(bed.dir, 'edge-tls'));
  await bed.kubectl([
    '-n',
    namespace,
    'create',
    'secret',
    'generic',
    'gatehouse-ledger',
    '--from-literal=url=postgresql://ledger.example/gatehouse',
  ]);
  await bed.kubectl(
    ['-n', namespace, 'create', 'secret', 'generic', 'gatehouse-webhooks'].concat(
      ['github', 'gitlab', 'gitea', 'bitbucket'].map((p) => `--from-literal=${p}=${p}-hook-secret`),
    ),
  );
  await bed.kubectl(
    [
      '-n',
      namespace,
      'create',
      'secret',
      'tls',
      'gatehouse-edge-tls',
      `--cert=${tls.replace(/edge\.pem$/, 'edge.crt')}`,
    ].concat([`--key=${tls.replace(/edge\.pem$/, 'edge.key')}`]),
  );
}, 300_000);

/**
 * Runs `work` while standing in for a cloud's load-balancer controller, which the bed lacks: each
 * LoadBalancer Service without an address is given 127.0.0.1, as `helm --wait` waits for one.
 */
async function withLoadBalancer<T>(work: Promise<T>): Promise<T> {
  let done = false;
  const controller = (async () => {
    while (!done) {
      for (const service of await items<Service>('services')) {
        if (service.spec.type !== 'LoadBalancer' || (service.status?.loadBalancer?.ingress?.length ?? 0) > 0) continue;
        const status = { status: { loadBalancer: { ingress: [{ ip: '127.0.0.1' }] } } };
        await bed.kubectl(
          ['-n', namespace, 'patch', 'service', service.metadata.name, '--subresource=status', '--type=merge'].concat([
            '-p',
            JSON.stringify(status),
          ]),
        );
      }
      await sleep(500);
    }
  })();
  try {
    return await work;
  } finally {
    done = true;
    await controller;
  }
}

afterAll(async () => {
  await bed?.stop();
});

describe('the Helm chart on a real Kubernetes API server', () => {
  it('installs: every object accepted, every Deployment available with its pods running', async () => {
    await withLoadBalancer(helm(['install', 'gatehouse', chart, '--wait', '--timeout', '4m']));
    const manifest = await helm(['get', 'manifest', 'gatehouse']);
    // Every object the chart rendered exists on the server.
    const listed = await bed.kubectl(['-n', namespace, 'get', '-f', '-', '-o', 'name'], { input: manifest });
    const kinds = listed
      .split('\n')
      .filter(Boolean)
      .map((line) => line.split('/')[0]);
    expect(new Set(kinds)).toEqual(
      new Set([
        'configmap',
        'deployment.apps',
        'horizontalpodautoscaler.autoscaling',
        'networkpolicy.networking.k8s.io',
        'poddisruptionbudget.policy',
        'service',
        'serviceaccount',
      ]),
    );
    expect(kinds.filter((k) => k === 'networkpolicy.networking.k8s.io').length).toBeGreaterThanOrEqual(4);

    const deployments = await items<Deployment>('deployments');
    expect(deployments.map((d) => d.metadata.name).sort()).toEqual(
      expect.arrayContaining(['gatehouse-bridge', 'gatehouse-edge', 'gatehouse-worker-gatehouse-ci']),
    );
    for (const d of deployments) expect(d.status.availableReplicas, d.metadata.name).toBe(d.spec.replicas);
    const pods = await items<Pod>('pods');
    expect(pods.length).toBe(deployments.reduce((sum, d) => sum + d.spec.replicas, 0));
    for (const pod of pods) {
      expect(pod.status.phase, pod.metadata.name).toBe('Running');
      expect(pod.spec.nodeName).toBe('kwok-node-0');
    }
  });

  it("enforces Pod Security in the chart's namespace: a pod the level forbids is refused", async () => {
    const privileged = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'privileged-probe' },
      spec: { containers: [{ name: 'c', image: 'busybox', securityContext: { privileged: true } }] },
    };
    const refused = await bed
      .kubectl(['-n', namespace, 'apply', '--dry-run=server', '-f', '-'], { input: JSON.stringify(privileged) })
      .then(
        () => '',
        (error: unknown) => String(error),
      );
    expect(refused).toContain(`violates PodSecurity "${podSecurityLevel}:v1.34"`);
  });

  it('upgrades: a changed value rolls the pods to a new revision', async () => {
    await helm(
      ['upgrade', 'gatehouse', chart, '--wait', '--timeout', '4m', '--set', 'edge.replicas=3'].concat([
        '--set-string',
        'bridge.podAnnotations.gatehouse\\.test/rollout=second',
      ]),
    );
    expect(JSON.parse(await helm(['status', 'gatehouse', '-o', 'json']))).toMatchObject({
      version: 2,
      info: { status: 'deployed' },
    });
    const deployments = await items<Deployment>('deployments');
    const edge = deployments.find((d) => d.metadata.name === 'gatehouse-edge')!;
    expect(edge.spec.replicas).toBe(3);
    expect(edge.status.availableReplicas).toBe(3);
    const bridge = deployments.find((d) => d.metadata.name === 'gatehouse-bridge')!;
    expect(bridge.spec.template.metadata.annotations).toMatchObject({ 'gatehouse.test/rollout': 'second' });
    expect(bridge.status.updatedReplicas).toBe(bridge.spec.replicas);
    // The old bridge pods go once the rollout is done (kwok deletes them when the ReplicaSet
    // does); the running ones carry the new template.
    await vi.waitFor(
      async () => {
        const bridgePods = (await items<Pod>('pods')).filter(
          (p) => p.metadata.labels['app.kubernetes.io/component'] === 'bridge',
        );
        expect(bridgePods.length).toBe(bridge.spec.replicas);
        for (const pod of bridgePods)
          expect(pod.metadata.annotations).toMatchObject({ 'gatehouse.test/rollout': 'second' });
      },
      { timeout: 30_000, interval: 500 },
    );
  });
});
