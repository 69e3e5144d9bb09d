// The Helm chart (deploy/helm/gatehouse), checked without a cluster: `helm lint --strict`, `helm
// template` with the default values and with test/fixtures/helm/values-tls.yaml (Temporal over
// mTLS with an API key, existing Secrets as env vars and files, three queues, the Argo door), every
// manifest validated against the Kubernetes 1.31 API schemas (kubernetes-validate --strict), the
// rendered haproxy.cfg checked by the real HAProxy (`haproxy -c`), the rendered gatehouse.yaml
// loaded by the real config loader, and the chart's behaviours asserted on the rendered objects.
// helm and kubernetes-validate come from scripts/setup.sh (scripts/install-helm.sh, .venv).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { exportJWK, generateKeyPair } from 'jose';
import { afterAll, describe, expect, it } from 'vitest';
import { parse, parseAllDocuments, stringify } from 'yaml';
import { bridgeCommand } from '../../src/config/bridge-process.js';
import { loadConfig } from '../../src/config/load-config.js';
import { edgeKeysFrom, renderKeyFiles } from '../../src/edge/render-keys.js';
import { loadPolicyEngine } from '../../src/worker/policy-engine.js';

const chart = 'deploy/helm/gatehouse';
const fixture = 'test/fixtures/helm/values-tls.yaml';
const kubeVersion = '1.31.0';
const helmVersion = /^HELM_VERSION=(\S+)/m.exec(readFileSync('scripts/install-helm.sh', 'utf8'))?.[1];
const helm = `.tools/helm/${helmVersion}/helm`;
const validator = '.venv/bin/kubernetes-validate';
const work = mkdtempSync(join(tmpdir(), 'gatehouse-helm-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/* eslint-disable @typescript-eslint/no-explicit-any -- rendered manifests are untyped JSON */
type Manifest = Record<string, any>;

function run(file: string, args: string[], env: NodeJS.ProcessEnv = process.env) {
  if (!existsSync(file)) throw new Error(`${file} is missing: run scripts/setup.sh`);
  const result = spawnSync(file, args, { encoding: 'utf8', env, maxBuffer: 64 * 1024 * 1024 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

function template(args: string[] = []) {
  return run(helm, [
    'template',
    'gatehouse',
    chart,
    '--namespace',
    'gatehouse',
    '--kube-version',
    kubeVersion,
    ...args,
  ]);
}

function render(args: string[] = []): { text: string; manifests: Manifest[] } {
  const result = template(args);
  if (result.status !== 0) throw new Error(`helm template failed:\n${result.stderr}`);
  const manifests = parseAllDocuments(result.stdout)
    .map((doc) => doc.toJS() as Manifest | null)
    .filter((m): m is Manifest => m !== null);
  return { text: result.stdout, manifests };
}

const defaults = render();
const tls = render(['-f', fixture]);
const renders = { defaults, tls } as const;

const byKind = (manifests: Manifest[], kind: string) => manifests.filter((m) => m.kind === kind);
const named = (manifests: Manifest[], kind: string, name: string) => {
  const found = manifests.find((m) => m.kind === kind && m.metadata.name === name);
  if (found === undefined) throw new Error(`no ${kind} ${name}`);
  return found;
};
const deployments = (manifests: Manifest[]) => byKind(manifests, 'Deployment');
const workers = (manifests: Manifest[]) =>
  deployments(manifests).filter((d) => d.metadata.labels['app.kubernetes.io/component'] === 'worker');
const podLabels = (deployment: Manifest): Record<string, string> => deployment.spec.template.metadata.labels;
const containers = (deployment: Manifest): Manifest[] => [
  ...(deployment.spec.template.spec.initContainers ?? []),
  ...deployment.spec.template.spec.containers,
];
const envOf = (container: Manifest): Manifest[] => container.env ?? [];
const envValue = (container: Manifest, name: string) => envOf(container).find((e) => e.name === name);
const configOf = (manifests: Manifest[]) =>
  parse(named(manifests, 'ConfigMap', 'gatehouse-config').data['gatehouse.yaml']) as Manifest;

function validate(file: string, text: string) {
  writeFileSync(file, text);
  return run(validator, ['--strict', '--kubernetes-version', kubeVersion, '--quiet', file]);
}

// NetworkPolicy evaluation, as the API defines it (matchLabels selectors, ipBlock with except).
function ipv4(ip: string): number {
  return ip.split('.').reduce((value, octet) => value * 256 + Number(octet), 0);
}
function inCidr(ip: string, cidr: string): boolean {
  const [base, bits] = cidr.split('/');
  const size = 2 ** (32 - Number(bits));
  return Math.floor(ipv4(ip) / size) === Math.floor(ipv4(base!) / size);
}
const selects = (selector: Manifest, labels: Record<string, string>) =>
  Object.entries(selector.matchLabels ?? {}).every(([key, value]) => labels[key] === value);
const policiesFor = (manifests: Manifest[], labels: Record<string, string>) =>
  byKind(manifests, 'NetworkPolicy').filter((p) => selects(p.spec.podSelector, labels));
/** May a pod with these labels open a TCP connection to ip:port outside the cluster? */
function egressAllowed(manifests: Manifest[], labels: Record<string, string>, ip: string, port: number): boolean {
  const policies = policiesFor(manifests, labels).filter((p) => p.spec.policyTypes.includes('Egress'));
  if (policies.length === 0) return true;
  return policies.some((policy) =>
    (policy.spec.egress ?? []).some((rule: Manifest) => {
      const portOk =
        rule.ports === undefined ||
        rule.ports.some((p: Manifest) => p.port === port && (p.protocol ?? 'TCP') === 'TCP');
      const peerOk =
        rule.to === undefined ||
        rule.to.some(
          (peer: Manifest) =>
            peer.ipBlock !== undefined &&
            inCidr(ip, peer.ipBlock.cidr) &&
            !(peer.ipBlock.except ?? []).some((cidr: string) => inCidr(ip, cidr)),
        );
      return portOk && peerOk;
    }),
  );
}

describe('the Helm chart', () => {
  it('carries the repository haproxy.cfg and policies unchanged (the chart cannot read outside itself)', () => {
    expect(readFileSync(`${chart}/files/haproxy.cfg`, 'utf8')).toBe(readFileSync('haproxy/haproxy.cfg', 'utf8'));
    const policies = readdirSync('config/policies').sort();
    expect(readdirSync(`${chart}/files/policies`).sort()).toEqual(policies);
    const rendered = named(defaults.manifests, 'ConfigMap', 'gatehouse-policies').data as Record<string, string>;
    for (const file of policies) {
      expect(readFileSync(`${chart}/files/policies/${file}`, 'utf8'), file).toBe(
        readFileSync(`config/policies/${file}`, 'utf8'),
      );
      expect(rendered[file], file).toBe(readFileSync(`config/policies/${file}`, 'utf8'));
    }
  });

  it('passes helm lint --strict with both value sets', () => {
    for (const extra of [[], ['-f', fixture]]) {
      const result = run(helm, ['lint', '--strict', '--kube-version', kubeVersion, chart, ...extra]);
      expect(result.status, result.stdout + result.stderr).toBe(0);
    }
  });

  it('renders only manifests valid against the Kubernetes 1.31 API (strict: unknown fields fail)', () => {
    for (const [name, { text, manifests }] of Object.entries(renders)) {
      const result = validate(join(work, `${name}.yaml`), text);
      expect(result.status, result.stdout + result.stderr).toBe(0);
      expect(manifests.length).toBeGreaterThan(15);
    }
    // The validator itself refuses a misspelt field, so a pass means something.
    const bridge = structuredClone(named(defaults.manifests, 'Deployment', 'gatehouse-bridge'));
    bridge.spec.template.spec.containers[0].readinesProbe = bridge.spec.template.spec.containers[0].readinessProbe;
    expect(validate(join(work, 'broken.yaml'), stringify(bridge)).status).not.toBe(0);
  });

  it('renders no Secret: secrets stay in the cluster, named by the values', () => {
    for (const { manifests } of Object.values(renders)) expect(byKind(manifests, 'Secret')).toEqual([]);
  });

  it('runs one worker Deployment per task queue, each with --queues <queue>, and refuses a queue without one', () => {
    for (const [name, { manifests }] of Object.entries(renders)) {
      const queues = workers(manifests).map((d) => {
        const command: string[] = d.spec.template.spec.containers[0].command;
        expect(command.slice(0, 4), d.metadata.name).toEqual(['node', '--import', 'tsx', 'src/worker.ts']);
        expect(command.filter((arg) => arg === '--queues')).toHaveLength(1);
        const queue = command[command.indexOf('--queues') + 1]!;
        expect(d.metadata.name).toBe(`gatehouse-worker-${queue}`);
        expect(podLabels(d)['gatehouse/task-queue']).toBe(queue);
        return queue;
      });
      expect(queues.sort(), name).toEqual([...configOf(manifests).taskQueues].sort());
    }
    expect(workers(tls.manifests).map((d) => d.spec.replicas)).toEqual([3, 4, 2]);
    const missing = template(['--set', 'config.taskQueues={gatehouse-policy,gatehouse-ci,orphan}']);
    expect(missing.status).not.toBe(0);
    expect(missing.stderr).toContain('orphan has no worker');
  });

  it('drains the bridge: readiness on /readyz, liveness on /healthz, a preStop sleep, then time to finish', () => {
    for (const { manifests } of Object.values(renders)) {
      const pod = named(manifests, 'Deployment', 'gatehouse-bridge').spec.template.spec;
      const bridge = pod.containers[0];
      expect(bridge.command).toEqual(bridgeCommand);
      expect(bridge.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'http' });
      expect(bridge.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'http' });
      const sleep = bridge.lifecycle.preStop.exec.command;
      expect(sleep[0]).toBe('sleep');
      // After the sleep, a long-poll may still need maxWaitSeconds + the Temporal deadline (35 s).
      const config = configOf(manifests);
      const longest = config.limits.maxWaitSeconds + Number.parseInt(config.temporal.requestTimeout, 10);
      expect(pod.terminationGracePeriodSeconds).toBeGreaterThan(Number(sleep[1]) + longest);
    }
    const tooShort = template(['--set', 'bridge.terminationGracePeriodSeconds=10']);
    expect(tooShort.status).not.toBe(0);
  });

  it('keeps the metrics listener on its own named port, which the edge never routes to', () => {
    for (const { manifests } of Object.values(renders)) {
      const bridge = named(manifests, 'Deployment', 'gatehouse-bridge').spec.template.spec.containers[0];
      expect(bridge.ports.map((p: Manifest) => [p.name, p.containerPort])).toEqual([
        ['http', 8080],
        ['metrics', 9464],
      ]);
      expect(envValue(bridge, 'GATEHOUSE_METRICS_LISTEN')?.value).toBe('0.0.0.0:9464');
      expect(envValue(bridge, 'GATEHOUSE_LISTEN')?.value).toBe('0.0.0.0:8080');
      const edgeService = named(manifests, 'Service', 'gatehouse-edge');
      expect(edgeService.spec.ports.map((p: Manifest) => p.targetPort)).toEqual(['https']);
      const cfg: string = named(manifests, 'ConfigMap', 'gatehouse-edge').data['haproxy.cfg'];
      expect(cfg).toContain('_http._tcp.gatehouse-bridge.gatehouse.svc.cluster.local');
      expect(cfg).not.toContain('_metrics.');
      expect(cfg).not.toMatch(/\$\{EDGE_BRIDGE_\d\}/);
    }
  });

  it('autoscales the bridge and bounds disruptions of every component', () => {
    for (const [name, { manifests }] of Object.entries(renders)) {
      const hpa = named(manifests, 'HorizontalPodAutoscaler', 'gatehouse-bridge');
      expect(hpa.spec.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: 'gatehouse-bridge' });
      expect(hpa.spec.minReplicas).toBeGreaterThanOrEqual(2);
      // The HPA owns the replica count, and HAProxy has a slot for every replica it may make.
      expect(named(manifests, 'Deployment', 'gatehouse-bridge').spec.replicas).toBeUndefined();
      const cfg: string = named(manifests, 'ConfigMap', 'gatehouse-edge').data['haproxy.cfg'];
      const slots = Number(/server-template bridge 1-(\d+) /.exec(cfg)?.[1]);
      expect(slots, name).toBeGreaterThanOrEqual(hpa.spec.maxReplicas);
      const pdbs = byKind(manifests, 'PodDisruptionBudget');
      for (const deployment of deployments(manifests)) {
        const covering = pdbs.filter((pdb) => selects(pdb.spec.selector, podLabels(deployment)));
        expect(covering.length, deployment.metadata.name).toBe(1);
      }
    }
    expect(named(tls.manifests, 'HorizontalPodAutoscaler', 'gatehouse-bridge').spec.maxReplicas).toBe(20);
  });

  it('denies all traffic by default, then allows each component only what it needs', () => {
    for (const { manifests } of Object.values(renders)) {
      const deny = named(manifests, 'NetworkPolicy', 'gatehouse-default-deny');
      expect(deny.spec.policyTypes).toEqual(['Ingress', 'Egress']);
      expect(deny.spec.ingress).toBeUndefined();
      expect(deny.spec.egress).toBeUndefined();
      for (const deployment of deployments(manifests)) {
        const policies = policiesFor(manifests, podLabels(deployment));
        expect(policies.map((p) => p.metadata.name)).toContain('gatehouse-default-deny');
        expect(policies.length, deployment.metadata.name).toBe(2);
      }
      for (const policy of byKind(manifests, 'NetworkPolicy')) {
        // No rule opens egress to everywhere; only the edge's TLS port takes ingress from anywhere.
        for (const rule of policy.spec.egress ?? []) expect(rule.to?.length, policy.metadata.name).toBeGreaterThan(0);
        for (const rule of policy.spec.ingress ?? []) {
          if (rule.from === undefined) {
            expect(policy.metadata.name).toBe('gatehouse-edge');
            expect(rule.ports).toEqual([{ port: 8443, protocol: 'TCP' }]);
          }
        }
      }
      // The bridge takes its HTTP port from the edge only, and its metrics port from monitoring only.
      const bridgeIngress = named(manifests, 'NetworkPolicy', 'gatehouse-bridge').spec.ingress;
      expect(bridgeIngress[0].ports).toEqual([{ port: 8080, protocol: 'TCP' }]);
      expect(bridgeIngress[0].from).toEqual([
        {
          podSelector: {
            matchLabels: {
              'app.kubernetes.io/name': 'gatehouse',
              'app.kubernetes.io/instance': 'gatehouse',
              'app.kubernetes.io/component': 'edge',
            },
          },
        },
      ]);
      expect(bridgeIngress[1].ports).toEqual([{ port: 9464, protocol: 'TCP' }]);
      expect(bridgeIngress[1].from[0].namespaceSelector).toBeDefined();
    }
  });

  it("never lets a worker (and so a CI step with network) reach the IdP, which the bridge and the edge's key sync reach", () => {
    const idp = '203.0.113.10'; // in the fixture's IdP range, inside the workers' 0.0.0.0/0 for Git and Temporal
    const github = '140.82.121.4';
    const { manifests } = tls;
    const ci = podLabels(named(manifests, 'Deployment', 'gatehouse-worker-gatehouse-ci'));
    const policy = podLabels(named(manifests, 'Deployment', 'gatehouse-worker-gatehouse-policy'));
    expect(egressAllowed(manifests, podLabels(named(manifests, 'Deployment', 'gatehouse-bridge')), idp, 443)).toBe(
      true,
    );
    expect(egressAllowed(manifests, podLabels(named(manifests, 'Deployment', 'gatehouse-edge')), idp, 443)).toBe(true);
    for (const port of [443, 22, 7233]) expect(egressAllowed(manifests, ci, idp, port), `${port}`).toBe(false);
    expect(egressAllowed(manifests, ci, github, 443)).toBe(true);
    expect(egressAllowed(manifests, ci, github, 7233)).toBe(true);
    expect(egressAllowed(manifests, policy, github, 443)).toBe(false);
    for (const worker of workers(manifests)) {
      expect(egressAllowed(manifests, podLabels(worker), idp, 443), worker.metadata.name).toBe(false);
    }
    // Default values: the IdP is "anywhere on 443", and no worker may go anywhere on 443.
    for (const worker of workers(defaults.manifests)) {
      expect(egressAllowed(defaults.manifests, podLabels(worker), '192.0.2.1', 443)).toBe(false);
    }
    // A worker range that is the IdP's range cannot exclude it: the chart refuses to render.
    const overlap = template(['--set', 'networkPolicy.destinations.git.to[0].ipBlock.cidr=0.0.0.0/0']);
    expect(overlap.status).not.toBe(0);
    expect(overlap.stderr).toContain("is the IdP's range");
  });

  it('gives the workers that deliver callbacks, and only them, egress to the receivers', () => {
    const receiver = '198.51.100.7';
    const withCallbacks = ['-f', fixture, '-f', 'test/fixtures/helm/values-callbacks.yaml'];
    const labelsOf = (manifests: Manifest[], queue: string) =>
      podLabels(named(manifests, 'Deployment', `gatehouse-worker-${queue}`));
    const queues = ['gatehouse-policy', 'gatehouse-ci', 'gatehouse-billing', 'gatehouse-callbacks'];
    const reach = (manifests: Manifest[]) =>
      Object.fromEntries(queues.map((q) => [q, egressAllowed(manifests, labelsOf(manifests, q), receiver, 8443)]));

    // callbacks.taskQueue set: its worker alone.
    const own = render(withCallbacks);
    expect(reach(own.manifests)).toEqual({
      'gatehouse-policy': false,
      'gatehouse-ci': false,
      'gatehouse-billing': false,
      'gatehouse-callbacks': true,
    });
    expect(egressAllowed(own.manifests, labelsOf(own.manifests, 'gatehouse-callbacks'), receiver, 443)).toBe(false);
    expect(configOf(own.manifests).callbacks.receivers).toHaveProperty('team-a');

    // Without it, each job's callback is delivered on the job's own queue: every queue with routes.
    const onJobQueues = render([...withCallbacks, '--set', 'config.callbacks.taskQueue=null']);
    expect(reach(onJobQueues.manifests)).toEqual({
      'gatehouse-policy': true,
      'gatehouse-ci': true,
      'gatehouse-billing': true,
      'gatehouse-callbacks': false,
    });

    // Receivers anywhere: the IdP is still cut out, as for every worker destination.
    const anywhere = render([
      ...withCallbacks,
      '--set',
      'networkPolicy.destinations.callbackReceivers.to[0].ipBlock.cidr=0.0.0.0/0',
    ]);
    const callbacksWorker = labelsOf(anywhere.manifests, 'gatehouse-callbacks');
    expect(egressAllowed(anywhere.manifests, callbacksWorker, '192.0.2.44', 8443)).toBe(true);
    expect(egressAllowed(anywhere.manifests, callbacksWorker, '203.0.113.10', 8443)).toBe(false);

    // No receivers (the defaults): no worker gets the rule.
    for (const worker of workers(tls.manifests))
      expect(egressAllowed(tls.manifests, podLabels(worker), receiver, 8443), worker.metadata.name).toBe(false);

    // Receivers with nowhere to reach them: callbacks could never be delivered, so no render.
    const nowhere = template([...withCallbacks, '--set-json', 'networkPolicy.destinations.callbackReceivers.to=[]']);
    expect(nowhere.status).not.toBe(0);
    expect(nowhere.stderr).toContain('networkPolicy.destinations.callbackReceivers.to is empty');
  });

  it('turns Temporal TLS values into mounted Secret files and the loader environment, in the bridge and every worker', () => {
    const { manifests } = tls;
    const gatehousePods = deployments(manifests).filter((d) => d.metadata.name !== 'gatehouse-edge');
    expect(gatehousePods).toHaveLength(4);
    for (const deployment of gatehousePods) {
      const pod = deployment.spec.template.spec;
      const container = pod.containers[0];
      const at = deployment.metadata.name;
      expect(envValue(container, 'TEMPORAL_ADDRESS')?.value, at).toBe('gatehouse-prod.a1b2c.tmprl.cloud:7233');
      expect(envValue(container, 'TEMPORAL_NAMESPACE')?.value, at).toBe('gatehouse-prod.a1b2c');
      expect(envValue(container, 'TEMPORAL_TLS')?.value, at).toBe('true');
      expect(envValue(container, 'TEMPORAL_TLS_SERVER_NAME')?.value, at).toBe('gatehouse-prod.a1b2c.tmprl.cloud');
      expect(envValue(container, 'TEMPORAL_API_KEY')?.valueFrom, at).toEqual({
        secretKeyRef: { name: 'temporal-cloud-api-key', key: 'key' },
      });
      // Each file variable names a path that a volume fills from the right Secret and key.
      const files: Record<string, [string, string]> = {
        TEMPORAL_TLS_CA: ['temporal-ca', 'ca.pem'],
        TEMPORAL_TLS_CERT: ['temporal-client-cert', 'tls.crt'],
        TEMPORAL_TLS_KEY: ['temporal-client-cert', 'tls.key'],
      };
      for (const [variable, [secret, key]] of Object.entries(files)) {
        const path: string = envValue(container, variable)?.value;
        const mount = container.volumeMounts.find((m: Manifest) => path.startsWith(`${m.mountPath}/`));
        expect(mount?.readOnly, `${at} ${variable}`).toBe(true);
        const volume = pod.volumes.find((v: Manifest) => v.name === mount.name);
        const inVolume = path.slice(mount.mountPath.length + 1);
        const source = volume.projected.sources.find((s: Manifest) => s.secret?.name === secret);
        const item = source?.secret.items.find((i: Manifest) => i.path === inVolume);
        expect(item?.key, `${at} ${variable}`).toBe(key);
        expect(item?.mode, `${at} ${variable}`).toBe(0o440);
      }
    }
    for (const deployment of deployments(defaults.manifests)) {
      for (const container of containers(deployment)) {
        expect(envOf(container).filter((e) => e.name.startsWith('TEMPORAL_TLS'))).toEqual([]);
        expect(envValue(container, 'TEMPORAL_API_KEY')).toBeUndefined();
      }
    }
  });

  it('keeps every secret out of ConfigMaps: the config only references them, the pods read them from Secrets', () => {
    const secretish = /SECRET|TOKEN|PASSWORD|API_KEY|LEDGER_URL|_KEY$/;
    for (const [name, { manifests }] of Object.entries(renders)) {
      for (const configMap of byKind(manifests, 'ConfigMap')) {
        for (const text of Object.values(configMap.data as Record<string, string>)) {
          expect(text).not.toMatch(/PRIVATE KEY|postgres(ql)?:\/\/[^\s]*@/);
        }
      }
      const config = configOf(manifests);
      const refs = [
        ...Object.values((config.webhooks ?? {}) as Record<string, unknown>)
          .filter((hooks): hooks is Record<string, Manifest> => typeof hooks === 'object' && hooks !== null)
          .flatMap((hooks) =>
            Object.values(hooks).flatMap((hook) => [...hook.secrets, ...(hook.signingSecrets ?? [])]),
          ),
        ...Object.values((config.ci?.statusApis ?? {}) as Record<string, Manifest>).map((api) => api.token),
        config.ledger?.url,
      ].filter((ref) => ref !== undefined);
      expect(refs.length, name).toBeGreaterThan(1);
      for (const ref of refs)
        expect(Object.keys(ref), `${name} ${JSON.stringify(ref)}`).toEqual([expect.stringMatching(/^(env|file)$/)]);
      for (const deployment of deployments(manifests)) {
        for (const container of containers(deployment)) {
          for (const variable of envOf(container).filter((e) => secretish.test(e.name))) {
            // A file path under a read-only Secret mount (TEMPORAL_TLS_KEY) or a secretKeyRef, never a value.
            if (variable.valueFrom === undefined) expect(variable.value, variable.name).toMatch(/^\/etc\/gatehouse\//);
            else expect(variable.valueFrom.secretKeyRef, variable.name).toBeDefined();
          }
        }
      }
    }
    // The fixture's file secrets are mounted where its config names them, in the process that reads them.
    const config = configOf(tls.manifests);
    const mounts = (deployment: string): string[] =>
      named(tls.manifests, 'Deployment', deployment).spec.template.spec.containers[0].volumeMounts.map(
        (m: Manifest) => m.mountPath,
      );
    const mounted = (deployment: string, file: string) => mounts(deployment).some((m) => file.startsWith(`${m}/`));
    const hookFile: string = config.webhooks.github.default.secrets[0].file;
    const tokenFile: string = config.ci.statusApis.github.token.file;
    expect(mounted('gatehouse-bridge', hookFile)).toBe(true);
    expect(mounted('gatehouse-worker-gatehouse-ci', tokenFile)).toBe(true);
    for (const file of [hookFile, tokenFile]) expect(mounted('gatehouse-worker-gatehouse-policy', file)).toBe(false);
    // A secret written into values.config is refused before anything renders.
    const literal = template(['--set-string', 'config.ledger.url=postgres://gatehouse:hunter2@db/ledger']);
    expect(literal.status).not.toBe(0);
    expect(literal.stderr).toContain("values don't meet the specifications of the schema");
  });

  it('rejects bad values through values.schema.json', () => {
    const bad = (name: string, values: string) => {
      const file = join(work, `${name}.yaml`);
      writeFileSync(file, values);
      const result = template(['-f', file]);
      expect(result.status, name).not.toBe(0);
      expect(result.stderr, name).toContain("values don't meet the specifications of the schema");
      return result.stderr;
    };
    expect(
      bad('idp-egress', 'workers:\n  queues:\n    - { name: gatehouse-ci, egressTo: [temporal, idp] }\n'),
    ).toContain('egressTo');
    expect(bad('replicas', 'bridge:\n  replicas: three\n')).toContain('/bridge/replicas');
    expect(bad('typo', 'bridge:\n  replica: 3\n')).toContain('replica');
    expect(bad('mount', 'bridge:\n  secretFiles: [{ secretName: s, mountPath: /etc/gatehouse/secrets }]\n')).toContain(
      'mountPath',
    );
    expect(bad('address', 'temporal:\n  address: temporal.example\n')).toContain('/temporal/address');
  });

  it('runs every container unprivileged; only the CI worker leaves seccomp and AppArmor, in a user namespace', () => {
    for (const { manifests } of Object.values(renders)) {
      for (const deployment of deployments(manifests)) {
        const pod = deployment.spec.template.spec;
        const sandbox = podLabels(deployment)['gatehouse/sandbox'] === 'bubblewrap';
        expect(pod.securityContext.runAsNonRoot).toBe(true);
        expect(pod.securityContext.seccompProfile).toEqual({ type: 'RuntimeDefault' });
        expect(pod.automountServiceAccountToken).toBe(false);
        expect(pod.hostUsers, deployment.metadata.name).toBe(sandbox ? false : undefined);
        for (const container of containers(deployment)) {
          const at = `${deployment.metadata.name}/${container.name}`;
          const sc = container.securityContext;
          expect(sc.allowPrivilegeEscalation, at).toBe(false);
          expect(sc.readOnlyRootFilesystem, at).toBe(true);
          expect(sc.capabilities, at).toEqual({ drop: ['ALL'] });
          expect(sc.privileged, at).toBeUndefined();
          expect(container.resources?.requests, at).toBeDefined();
          expect(container.resources?.limits?.memory, at).toBeDefined();
          expect(sc.seccompProfile, at).toEqual(sandbox ? { type: 'Unconfined' } : undefined);
          expect(sc.appArmorProfile, at).toEqual(sandbox ? { type: 'Unconfined' } : undefined);
          expect(sc.procMount, at).toBe(sandbox ? 'Unmasked' : undefined);
        }
      }
      const sandboxed = workers(manifests).filter((d) => podLabels(d)['gatehouse/sandbox'] === 'bubblewrap');
      expect(sandboxed.map((d) => d.metadata.name)).toEqual(['gatehouse-worker-gatehouse-ci']);
      for (const manifest of manifests) {
        for (const label of ['name', 'instance', 'component', 'part-of', 'managed-by', 'version']) {
          expect(
            manifest.metadata.labels[`app.kubernetes.io/${label}`],
            `${manifest.metadata.name} ${label}`,
          ).toBeDefined();
        }
      }
    }
  });

  it('renders a gatehouse.yaml that the bridge and each worker load, with the environment the chart gives them', () => {
    const { manifests } = defaults;
    const etc = join(work, 'etc-gatehouse');
    mkdirSync(join(etc, 'policies'), { recursive: true });
    writeFileSync(
      join(etc, 'gatehouse.yaml'),
      named(manifests, 'ConfigMap', 'gatehouse-config').data['gatehouse.yaml'],
    );
    for (const [file, text] of Object.entries(
      named(manifests, 'ConfigMap', 'gatehouse-policies').data as Record<string, string>,
    ))
      writeFileSync(join(etc, 'policies', file), text);
    const environment = (container: Manifest): NodeJS.ProcessEnv =>
      Object.fromEntries(
        envOf(container).map((e) => [e.name, e.valueFrom?.secretKeyRef === undefined ? e.value : `secret-${e.name}`]),
      );
    for (const deployment of deployments(manifests).filter((d) => d.metadata.name !== 'gatehouse-edge')) {
      const container = deployment.spec.template.spec.containers[0];
      const env = environment(container);
      expect(env.GATEHOUSE_CONFIG).toBe('/etc/gatehouse/gatehouse.yaml');
      const isBridge = deployment.metadata.name === 'gatehouse-bridge';
      const config = loadConfig(
        { ...env, GATEHOUSE_CONFIG: join(etc, 'gatehouse.yaml') },
        isBridge ? {} : { webhookSecrets: false },
      );
      expect(config.temporal.address).toBe('temporal-frontend.temporal.svc.cluster.local:7233');
      expect(config.server.listen).toBe(isBridge ? '0.0.0.0:8080' : '127.0.0.1:8080');
      if (isBridge) expect(config.webhookSecrets.size).toBe(4);
      expect(config.ledgerUrl).toBeDefined();
      expect(() => loadPolicyEngine(config)).not.toThrow();
    }
  });

  it('gives HAProxy a config that HAProxy accepts: bridges by DNS, the Secret certificate split in two files', async () => {
    const { publicKey } = await generateKeyPair('ES256', { extractable: true });
    const jwks = { keys: [{ ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' }] };
    const { keys } = await edgeKeysFrom(jwks, Math.floor(Date.now() / 1000));
    for (const [name, { manifests }] of Object.entries(renders)) {
      const root = join(work, `edge-${name}`);
      const pod = named(manifests, 'Deployment', 'gatehouse-edge').spec.template.spec;
      const haproxy = pod.containers.find((c: Manifest) => c.name === 'haproxy');
      const sync = pod.containers.find((c: Manifest) => c.name === 'jwks-sync');
      expect(haproxy.command).toContain('/var/lib/gatehouse-edge/keys/keys.cfg');
      expect(pod.initContainers.map((c: Manifest) => c.command.at(-1))).toEqual(['sync-jwks']);
      expect(sync.command.slice(-3)).toEqual(['sync-jwks', '--every', '60']);
      // The sync checks new keys against the config HAProxy runs: the same ConfigMap, where the
      // image keeps haproxy.cfg (src/edge/edge-files.ts).
      const mountOf = (container: Manifest, volume: string) =>
        container.volumeMounts.find((m: Manifest) => m.name === volume)?.mountPath;
      expect(mountOf(sync, 'haproxy-config')).toBe('/app/haproxy');
      expect(mountOf(haproxy, 'haproxy-config')).toBe('/usr/local/etc/haproxy');
      expect(mountOf(sync, 'edge-state')).toBe(mountOf(haproxy, 'edge-state'));

      const cfg: string = named(manifests, 'ConfigMap', 'gatehouse-edge').data['haproxy.cfg'];
      const used = new Set([...cfg.matchAll(/\$\{(EDGE_[A-Z0-9_]+)\}/g)].map((m) => m[1]!));
      const env = (container: Manifest) => Object.fromEntries(envOf(container).map((e) => [e.name, e.value]));
      for (const variable of used) {
        expect(env(haproxy)[variable], `${name} haproxy ${variable}`).toBeDefined();
        expect(env(sync)[variable], `${name} jwks-sync ${variable}`).toBe(env(haproxy)[variable]);
      }
      // The Secret's tls.crt and tls.key become edge.pem and edge.pem.key.
      const tlsVolume = pod.volumes.find((v: Manifest) => v.name === 'edge-tls');
      expect(tlsVolume.secret.items).toEqual([
        { key: 'tls.crt', path: 'edge.pem' },
        { key: 'tls.key', path: 'edge.pem.key' },
      ]);
      const local = (path: string) =>
        path.replace('/var/lib/gatehouse-edge', root).replace('/etc/gatehouse-edge', root);
      const edgeEnv = { ...env(haproxy) } as Record<string, string>;
      for (const variable of ['EDGE_STATE_DIR', 'EDGE_KEYS_DIR', 'EDGE_CERT'])
        edgeEnv[variable] = local(edgeEnv[variable]!);
      for (const variable of ['EDGE_HTTPS_BIND', 'EDGE_STATS_BIND', 'EDGE_ARGO_BIND'].filter((v) => v in edgeEnv))
        edgeEnv[variable] = edgeEnv[variable]!.replace('0.0.0.0', '127.0.0.1');
      mkdirSync(edgeEnv.EDGE_KEYS_DIR!, { recursive: true });
      mkdirSync(edgeEnv.EDGE_STATE_DIR!, { recursive: true });
      mkdirSync(dirname(edgeEnv.EDGE_CERT!), { recursive: true });
      const cert = run('/usr/bin/openssl', [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=gatehouse.example.com',
        '-keyout',
        `${edgeEnv.EDGE_CERT}.key`,
        '-out',
        edgeEnv.EDGE_CERT!,
      ]);
      expect(cert.status, cert.stderr).toBe(0);
      for (const [file, text] of renderKeyFiles(keys, edgeEnv.EDGE_KEYS_DIR!))
        writeFileSync(join(edgeEnv.EDGE_KEYS_DIR!, file), text);
      writeFileSync(join(root, 'haproxy.cfg'), cfg);
      const check = run(
        '/usr/sbin/haproxy',
        ['-c', '-f', join(root, 'haproxy.cfg'), '-f', join(edgeEnv.EDGE_KEYS_DIR!, 'keys.cfg')],
        { PATH: process.env.PATH, ...edgeEnv },
      );
      expect(check.status, `${name}: ${check.stdout}${check.stderr}`).toBe(0);
      expect(cfg).toMatch(/^resolvers kube$/m);
    }
    // Argo: off by default (its sections left out), on in the fixture with the servers' TLS options.
    const argoOff: string = named(defaults.manifests, 'ConfigMap', 'gatehouse-edge').data['haproxy.cfg'];
    expect(argoOff).not.toContain('frontend argo');
    expect(argoOff).not.toContain('EDGE_ARGO');
    const argoOn: string = named(tls.manifests, 'ConfigMap', 'gatehouse-edge').data['haproxy.cfg'];
    expect(argoOn).toContain(
      'server argo1 argo-server.argo.svc.cluster.local:2746 id 1 resolvers kube init-addr none check ssl verify required',
    );
    expect(configOf(tls.manifests).ci.argo.url).toBe('http://gatehouse-edge-argo:2745');
  });
});

describe('the chart tools and version pins', () => {
  it('installs kubernetes-validate with --require-hashes, every requirement pinned by version and hash', () => {
    const setup = readFileSync('scripts/setup.sh', 'utf8');
    const requirements = readFileSync('scripts/requirements-k8s.txt', 'utf8');
    const version = /^KUBERNETES_VALIDATE_VERSION=(\S+)/m.exec(setup)?.[1];
    expect(setup).toMatch(/pip install [^\n]*--require-hashes -r scripts\/requirements-k8s\.txt/);
    expect(setup).toContain('bash scripts/install-helm.sh');
    expect(requirements).toContain(`kubernetes-validate==${version} `);
    const entries = requirements.split(/\n(?=[a-z])/).filter((entry) => /^[a-z]/.test(entry));
    expect(entries.length).toBeGreaterThan(5);
    for (const entry of entries) {
      expect(entry, entry).toMatch(/^[a-z0-9-]+==\S+ \\\n/);
      expect(entry, entry).toMatch(/--hash=sha256:[0-9a-f]{64}/);
    }
    expect(run(validator, ['--version']).stdout.trim()).toBe(version);
    expect(run(helm, ['version', '--template', '{{.Version}}']).stdout).toBe(helmVersion);
  });

  it("versions the chart's app as the package", () => {
    const chartYaml = parse(readFileSync(`${chart}/Chart.yaml`, 'utf8')) as { appVersion: string };
    const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
    expect(chartYaml.appVersion).toBe(pkg.version);
  });
});
