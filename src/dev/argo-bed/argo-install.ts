// Argo Workflows' own cluster install (manifests/cluster-install of the pinned module) as the test
// bed applies it: the ServiceAccounts `argo` and `argo-server`, their Roles, ClusterRoles and
// bindings and the PriorityClass, without the Deployments and Services (the bed runs the server
// and the controller as local processes under those ServiceAccounts' tokens), and the
// controller's ConfigMap with the bed's settings.
import { readFileSync } from 'node:fs';
import { parseAllDocuments, stringify } from 'yaml';

export const argoNamespace = 'argo';
export const controllerConfigMap = 'workflow-controller-configmap';

/** The install's objects the bed applies, as one YAML stream. */
export function argoRbacManifest(clusterInstallFile: string): string {
  const kept = parseAllDocuments(readFileSync(clusterInstallFile, 'utf8'))
    .map((doc) => doc.toJS() as { kind?: string; metadata?: { name?: string } } | null)
    .filter((object) => object !== null && object.kind !== undefined)
    .filter((object) => !['Deployment', 'Service'].includes(object!.kind!))
    .filter((object) => !(object!.kind === 'ConfigMap' && object!.metadata?.name === controllerConfigMap));
  return kept.map((object) => stringify(object)).join('---\n');
}

/**
 * The controller's ConfigMap: metrics on a port of the bed's (upstream's 9090 would clash between
 * beds; the patched binary binds it to loopback), plain HTTP, and no OpenTelemetry export.
 */
export function controllerConfig(metricsPort: number): string {
  return stringify({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: controllerConfigMap, namespace: argoNamespace },
    data: {
      metricsConfig: stringify({ port: metricsPort, secure: false }),
      telemetryConfig: stringify({ enabled: false }),
    },
  });
}
