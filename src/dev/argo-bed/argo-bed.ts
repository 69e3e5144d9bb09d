// A real Argo Workflows on this machine, the test bed for everything Gatehouse does with Argo
// (docs/argo.md): etcd and a Kubernetes API server with its own CA, certificates and RBAC,
// kube-scheduler and a kube-controller-manager subset, kwok standing in for the kubelet (its
// stages complete Argo's pods: src/dev/argo-bed/kwok-argo-stages.yaml), Argo's CRDs and RBAC, one
// workflow controller and Argo servers (two unless told), every one a local process on free
// loopback ports, built from Go modules by scripts/build-argo-bed.sh. Never used by production.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { lowPort } from '../low-port.js';
import { answersOk, managedProcess, type ManagedProcess } from '../managed-process.js';
import { argoNamespace, argoRbacManifest, controllerConfig } from './argo-install.js';
import { bedTools } from './bed-tools.js';
import { runKubectl, writeKubeconfig, type KubectlOptions, type KubeUser } from './kubectl.js';
import { makeBedPki } from './pki.js';

export type ArgoAuthMode = 'server' | 'client';

export interface ArgoServerSpec {
  /** `--auth-mode` values; the bed's `authModes` unless given. */
  authModes?: ArgoAuthMode[];
  /** More flags for `argo server`. */
  args?: string[];
}

export interface ArgoBedOptions {
  /** Certificates, kubeconfigs, data and one log file per process (logs/). */
  dir: string;
  /** One entry per Argo server; two servers in the bed's auth modes unless told. */
  servers?: ArgoServerSpec[];
  /** The servers' `--auth-mode`s (default `server`: Argo acts as its own ServiceAccount). */
  authModes?: ArgoAuthMode[];
  /** Argo's CRDs: `minimal` (default; 7 s to ready, 440 MB) or `full` (server-side schema validation; +8 s, +450 MB). */
  crds?: 'minimal' | 'full';
  /** Namespaces made at start, each with its `default` ServiceAccount (what Argo's pods run as). */
  namespaces?: string[];
  apiServer?: {
    /** Files the extra flags name (an authentication config, an issuer's CA), name → content, written to <dir>/apiserver/files. */
    files?: Record<string, string>;
    /** Extra kube-apiserver flags; a function is given each file's path by name. */
    args?: string[] | ((files: Record<string, string>) => string[]);
  };
  /** Progress lines. */
  say?: (line: string) => void;
}

export interface ArgoServerProcess extends ManagedProcess {
  /** host:port, plain HTTP on loopback (`--secure=false`). */
  readonly address: string;
  readonly url: string;
  readonly authModes: ArgoAuthMode[];
}

export interface ArgoBed {
  readonly dir: string;
  /** The pinned versions: etcd, kubernetes, argo-workflows, kwok. */
  readonly versions: Record<string, string>;
  /** A binary of the bed (kubectl, argo, …) by name. */
  bin(name: string): string;
  /** https://127.0.0.1:<port> */
  readonly apiServerUrl: string;
  /** The bed's CA: the API server's certificate and every client certificate. */
  readonly caFile: string;
  /** system:masters, by client certificate. */
  readonly adminKubeconfig: string;
  /** Where the controller and servers live and read their ConfigMap. */
  readonly argoNamespace: string;
  readonly servers: ArgoServerProcess[];
  readonly controller: ManagedProcess;
  readonly etcd: ManagedProcess;
  readonly apiServer: ManagedProcess;
  /** kubectl as the admin (or `options.kubeconfig`). */
  kubectl(args: string[], options?: KubectlOptions): Promise<string>;
  /** Server-side apply of a YAML stream or objects, as the admin. */
  apply(manifests: string | object | object[]): Promise<void>;
  /** A namespace with these labels (Pod Security ones, say), ready once its `default` ServiceAccount exists. */
  createNamespace(name: string, labels?: Record<string, string>): Promise<void>;
  /** A ServiceAccount token from the TokenRequest API (1 hour unless told). */
  createToken(
    namespace: string,
    serviceAccount: string,
    options?: { seconds?: number; audience?: string },
  ): Promise<string>;
  /** A kubeconfig file for another user of the API server (a token, or a certificate signed by caFile). */
  writeKubeconfig(name: string, user: KubeUser): string;
  stop(): Promise<void>;
}

const nodeName = 'kwok-node-0';

export async function startArgoBed(options: ArgoBedOptions): Promise<ArgoBed> {
  const say = options.say ?? (() => {});
  const tools = bedTools();
  const dir = options.dir;
  const logs = join(dir, 'logs');
  mkdirSync(logs, { recursive: true });
  const pki = makeBedPki(join(dir, 'pki'));
  const ports = {
    etcdClient: await lowPort(),
    etcdPeer: await lowPort(),
    apiServer: await lowPort(),
    kwok: await lowPort(),
    controllerHealth: await lowPort(),
    controllerMetrics: await lowPort(),
  };
  const apiServerUrl = `https://127.0.0.1:${ports.apiServer}`;
  const kubeconfigDir = join(dir, 'kubeconfig');
  mkdirSync(kubeconfigDir, { recursive: true });
  const kubeconfig = (name: string, user: KubeUser) =>
    writeKubeconfig(join(kubeconfigDir, name), { server: apiServerUrl, caFile: pki.caFile, user });
  const adminKubeconfig = kubeconfig('admin', { clientCertificate: pki.adminCertFile, clientKey: pki.adminKeyFile });
  const kubectl = (args: string[], kubectlOptions?: KubectlOptions) =>
    runKubectl(tools.bin('kubectl'), adminKubeconfig, args, kubectlOptions);
  const apply = async (manifests: string | object | object[]) => {
    const input =
      typeof manifests === 'string'
        ? manifests
        : (Array.isArray(manifests) ? manifests : [manifests]).map((m) => stringify(m)).join('---\n');
    await kubectl(['apply', '--server-side', '--force-conflicts', '-f', '-'], { input });
  };

  const part = (name: string, command: string, args: string[], ready: () => Promise<boolean>, env = {}) =>
    managedProcess({
      name,
      command: tools.bin(command),
      args,
      env,
      logFile: join(logs, `${name}.log`),
      ready,
      readyTimeoutMs: 90_000,
      graceMs: 10_000,
      // Argo's server and controller ignore SIGTERM and SIGINT.
      ...(command === 'argo' || command === 'workflow-controller' ? { stopSignal: 'SIGKILL' as const } : {}),
    });

  const etcd = part(
    'etcd',
    'etcd',
    [
      '--name=bed',
      `--data-dir=${join(dir, 'etcd')}`,
      `--listen-client-urls=http://127.0.0.1:${ports.etcdClient}`,
      `--advertise-client-urls=http://127.0.0.1:${ports.etcdClient}`,
      `--listen-peer-urls=http://127.0.0.1:${ports.etcdPeer}`,
      `--initial-advertise-peer-urls=http://127.0.0.1:${ports.etcdPeer}`,
      `--initial-cluster=bed=http://127.0.0.1:${ports.etcdPeer}`,
      // A test bed's data need not survive a power cut; fsync on a shared disk costs seconds.
      '--unsafe-no-fsync',
      '--log-level=warn',
    ],
    () => answersOk(`http://127.0.0.1:${ports.etcdClient}/health`),
  );

  const filesDir = join(dir, 'apiserver', 'files');
  mkdirSync(filesDir, { recursive: true });
  const files = Object.fromEntries(
    Object.entries(options.apiServer?.files ?? {}).map(([name, content]) => {
      const path = join(filesDir, name);
      writeFileSync(path, content, { mode: 0o600 });
      return [name, path];
    }),
  );
  const extraArgs = options.apiServer?.args;
  const apiServer = part(
    'kube-apiserver',
    'kube-apiserver',
    [
      `--etcd-servers=http://127.0.0.1:${ports.etcdClient}`,
      '--bind-address=127.0.0.1',
      '--advertise-address=127.0.0.1',
      `--secure-port=${ports.apiServer}`,
      `--cert-dir=${join(dir, 'apiserver')}`,
      `--tls-cert-file=${pki.serverCertFile}`,
      `--tls-private-key-file=${pki.serverKeyFile}`,
      `--client-ca-file=${pki.caFile}`,
      '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
      `--service-account-key-file=${pki.serviceAccountPublicKeyFile}`,
      `--service-account-signing-key-file=${pki.serviceAccountKeyFile}`,
      '--service-cluster-ip-range=10.96.0.0/16',
      '--authorization-mode=Node,RBAC',
      '--allow-privileged=true',
      // The admission plugin taints a new node not-ready until the node lifecycle controller,
      // which the bed does not run, clears it: kwok's node would never get a pod.
      '--disable-admission-plugins=TaintNodesByCondition',
      '--profiling=false',
      ...(typeof extraArgs === 'function' ? extraArgs(files) : (extraArgs ?? [])),
    ],
    () => httpsOk(`${apiServerUrl}/readyz`, pki.caFile),
  );

  const secure0 = ['--secure-port=0', `--kubeconfig=${adminKubeconfig}`, '--leader-elect=false'];
  const scheduler = part('kube-scheduler', 'kube-scheduler', secure0, async () => true);
  const controllerManager = part(
    'kube-controller-manager',
    'kube-controller-manager',
    [
      ...secure0,
      // What deletes, ServiceAccounts and the chart's Deployments need; no node lifecycle.
      '--controllers=garbagecollector,namespace,serviceaccount,serviceaccount-token,root-ca-cert-publisher,deployment,replicaset,job,statefulset,disruption,endpointslice',
      `--service-account-private-key-file=${pki.serviceAccountKeyFile}`,
      `--root-ca-file=${pki.caFile}`,
    ],
    async () => true,
  );
  const stagesFile = join(dir, 'kwok-stages.yaml');
  writeFileSync(
    stagesFile,
    [
      readFileSync(tools.manifest('kwok-stages.yaml'), 'utf8'),
      readFileSync(new URL('./kwok-argo-stages.yaml', import.meta.url), 'utf8'),
    ].join('\n---\n'),
  );
  const kwok = part(
    'kwok',
    'kwok',
    [
      `--kubeconfig=${adminKubeconfig}`,
      '--manage-all-nodes=true',
      `--config=${stagesFile}`,
      '--cidr=10.244.0.0/16',
      '--node-ip=127.0.0.1',
      `--server-address=127.0.0.1:${ports.kwok}`,
    ],
    () => answersOk(`http://127.0.0.1:${ports.kwok}/healthz`),
  );

  const controller = part(
    'workflow-controller',
    'workflow-controller',
    [`--kubeconfig=${join(kubeconfigDir, 'argo')}`, `--namespace=${argoNamespace}`],
    () => answersOk(`http://127.0.0.1:${ports.controllerHealth}/healthz`),
    {
      // Upstream's e2e setting: a step takes about 2 s instead of 10.
      DEFAULT_REQUEUE_TIME: '1s',
      // One controller per bed; a restarted one would otherwise wait 15 s for the old one's lease.
      LEADER_ELECTION_DISABLE: 'true',
      ARGO_CONTROLLER_HEALTH_ADDRESS: `127.0.0.1:${ports.controllerHealth}`,
    },
  );

  const specs = options.servers ?? [{}, {}];
  const servers: ArgoServerProcess[] = [];
  for (const [index, spec] of specs.entries()) {
    const port = await lowPort();
    const authModes = spec.authModes ?? options.authModes ?? ['server'];
    const serverKubeconfig = join(kubeconfigDir, 'argo-server');
    const server = part(
      `argo-server${index + 1}`,
      'argo',
      [
        'server',
        `--namespace=${argoNamespace}`,
        `--port=${port}`,
        '--secure=false',
        ...authModes.map((mode) => `--auth-mode=${mode}`),
        `--kubeconfig=${serverKubeconfig}`,
        ...(spec.args ?? []),
      ],
      // Upstream's readiness probe: `/` answers in every auth mode.
      () => answersOk(`http://127.0.0.1:${port}/`),
      // In client mode the server builds each request's config from KUBECONFIG, not the flag.
      { KUBECONFIG: serverKubeconfig },
    );
    servers.push(Object.assign(server, { address: `127.0.0.1:${port}`, url: `http://127.0.0.1:${port}`, authModes }));
  }

  const started: ManagedProcess[] = [];
  const startPart = async (p: ManagedProcess) => {
    started.push(p);
    await p.start();
  };
  const stop = async () => {
    for (const p of [...started].reverse()) await p.stop().catch(() => {});
  };

  const createNamespace = async (name: string, labels: Record<string, string> = {}) => {
    await apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } });
    await waitFor(`the default ServiceAccount of ${name}`, 60_000, async () => {
      await kubectl(['-n', name, 'get', 'serviceaccount', 'default']);
      return true;
    });
  };
  const createToken = async (
    namespace: string,
    serviceAccount: string,
    tokenOptions: { seconds?: number; audience?: string } = {},
  ) =>
    (
      await kubectl([
        '-n',
        namespace,
        'create',
        'token',
        serviceAccount,
        `--duration=${tokenOptions.seconds ?? 3600}s`,
        ...(tokenOptions.audience === undefined ? [] : [`--audience=${tokenOptions.audience}`]),
      ])
    ).trim();

  try {
    say('etcd and the Kubernetes API server');
    await startPart(etcd);
    await startPart(apiServer);
    say('scheduler, controller manager, kwok; Argo CRDs and RBAC');
    await Promise.all([startPart(scheduler), startPart(controllerManager), startPart(kwok)]);
    await createNamespace(argoNamespace);
    const crds = tools.manifest(options.crds === 'full' ? 'crds-full.yaml' : 'crds-minimal.yaml');
    await kubectl(['apply', '--server-side', '-f', crds]);
    // `kubectl wait` errs on a CRD the API server has not yet given conditions: try again.
    await waitFor('the Argo CRDs to be established', 60_000, async () => {
      await kubectl(['wait', '--for=condition=Established', '--timeout=10s', 'crd', '--all']);
      return true;
    });
    await apply(argoRbacManifest(tools.manifest('cluster-install-no-crds.yaml')));
    await apply(controllerConfig(ports.controllerMetrics));
    await apply({
      apiVersion: 'v1',
      kind: 'Node',
      metadata: {
        name: nodeName,
        labels: { 'kubernetes.io/hostname': nodeName, 'kubernetes.io/os': 'linux', type: 'kwok' },
        annotations: { 'kwok.x-k8s.io/node': 'fake', 'node.alpha.kubernetes.io/ttl': '0' },
      },
    });
    // Argo's own identities: each runs as its ServiceAccount with upstream's RBAC.
    for (const account of ['argo', 'argo-server'])
      kubeconfig(account, { token: await createToken(argoNamespace, account, { seconds: 30 * 24 * 3600 }) });
    for (const namespace of options.namespaces ?? []) await createNamespace(namespace);

    say(`Argo controller and ${servers.length} server(s)`);
    await Promise.all([startPart(controller), ...servers.map((s) => startPart(s))]);
    await probeWorkflow(kubectl);
  } catch (error) {
    await stop();
    throw error;
  }

  return {
    dir,
    versions: tools.versions,
    bin: tools.bin,
    apiServerUrl,
    caFile: pki.caFile,
    adminKubeconfig,
    argoNamespace,
    servers,
    controller,
    etcd,
    apiServer,
    kubectl,
    apply,
    createNamespace,
    createToken,
    writeKubeconfig: kubeconfig,
    stop,
  };
}

/** The bed serves once a workflow runs to Succeeded: controller, scheduler and kwok all at work. */
async function probeWorkflow(kubectl: ArgoBed['kubectl']): Promise<void> {
  const name = `probe-${Date.now().toString(36)}`;
  await kubectl(['-n', argoNamespace, 'create', '-f', '-'], {
    input: stringify({
      apiVersion: 'argoproj.io/v1alpha1',
      kind: 'Workflow',
      metadata: { name },
      spec: { entrypoint: 'main', templates: [{ name: 'main', container: { image: 'probe', command: ['true'] } }] },
    }),
  });
  await waitFor('the probe workflow to succeed', 60_000, async () => {
    const phase = await kubectl(['-n', argoNamespace, 'get', 'workflow', name, '-o', 'jsonpath={.status.phase}']);
    if (phase === 'Failed' || phase === 'Error') throw new GaveUp(`the probe workflow ended ${phase}`);
    return phase === 'Succeeded';
  });
  await kubectl(['-n', argoNamespace, 'delete', 'workflow', name, '--wait=false']);
}

/** Thrown by a check when waiting longer cannot help. */
class GaveUp extends Error {}

async function waitFor(what: string, timeoutMs: number, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      if (await check()) return;
    } catch (error) {
      if (error instanceof GaveUp) throw error;
      last = error;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${what} did not happen within ${timeoutMs} ms: ${String(last)}`);
}

/** A readiness check over HTTPS with the bed's CA: 200 within two seconds. */
function httpsOk(url: string, caFile: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request(url, { ca: readFileSync(caFile), timeout: 2_000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
    req.end();
  });
}
