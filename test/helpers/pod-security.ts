// The Pod Security Standards (Kubernetes 1.34, the checks of k8s.io/pod-security-admission) for
// the fields a pod template can set, so the chart's render test can say which level each pod meets
// without an API server. Each finding is worded like the admission controller's.
/* eslint-disable @typescript-eslint/no-explicit-any -- rendered manifests are untyped JSON */

export type PodSecurityLevel = 'baseline' | 'restricted';

const baselineCapabilities = new Set([
  'AUDIT_WRITE',
  'CHOWN',
  'DAC_OVERRIDE',
  'FOWNER',
  'FSETID',
  'KILL',
  'MKNOD',
  'NET_BIND_SERVICE',
  'SETFCAP',
  'SETGID',
  'SETPCAP',
  'SETUID',
  'SYS_CHROOT',
]);
const safeSysctls = new Set([
  'kernel.shm_rmid_forced',
  'net.ipv4.ip_local_port_range',
  'net.ipv4.ip_unprivileged_port_start',
  'net.ipv4.tcp_syncookies',
  'net.ipv4.ping_group_range',
  'net.ipv4.ip_local_reserved_ports',
  'net.ipv4.tcp_keepalive_time',
  'net.ipv4.tcp_fin_timeout',
  'net.ipv4.tcp_keepalive_intvl',
  'net.ipv4.tcp_keepalive_probes',
]);
const restrictedVolumes = new Set([
  'configMap',
  'csi',
  'downwardAPI',
  'emptyDir',
  'ephemeral',
  'persistentVolumeClaim',
  'projected',
  'secret',
]);
const seLinuxTypes = new Set(['', 'container_t', 'container_init_t', 'container_kvm_t', 'container_engine_t']);

/** What keeps `pod` (a PodSpec) from meeting `level`; empty when it meets it. */
export function podSecurityViolations(pod: Record<string, any>, level: PodSecurityLevel): string[] {
  const found: string[] = [];
  const containers: Array<Record<string, any>> = [
    ...(pod.initContainers ?? []),
    ...(pod.containers ?? []),
    ...(pod.ephemeralContainers ?? []),
  ];
  const podSc = pod.securityContext ?? {};
  const each = (check: (c: Record<string, any>, sc: Record<string, any>) => string | undefined) => {
    for (const container of containers) {
      const problem = check(container, container.securityContext ?? {});
      if (problem !== undefined) found.push(`${container.name}: ${problem}`);
    }
  };

  // baseline
  for (const field of ['hostNetwork', 'hostPID', 'hostIPC'])
    if (pod[field] === true) found.push(`host namespaces (${field})`);
  each((_, sc) => (sc.privileged === true ? 'privileged' : undefined));
  each((_, sc) => {
    const extra = (sc.capabilities?.add ?? []).filter((cap: string) => !baselineCapabilities.has(cap));
    return extra.length > 0 ? `capabilities.add ${extra.join(',')}` : undefined;
  });
  for (const volume of pod.volumes ?? [])
    if (volume.hostPath !== undefined) found.push(`hostPath volume ${volume.name}`);
  each((c) => ((c.ports ?? []).some((p: any) => (p.hostPort ?? 0) !== 0) ? 'hostPort' : undefined));
  const appArmorOk = (profile: any) => profile === undefined || ['RuntimeDefault', 'Localhost'].includes(profile.type);
  if (!appArmorOk(podSc.appArmorProfile)) found.push(`appArmorProfile ${podSc.appArmorProfile.type}`);
  each((_, sc) => (appArmorOk(sc.appArmorProfile) ? undefined : `appArmorProfile ${sc.appArmorProfile.type}`));
  const seLinuxOk = (options: any) =>
    options === undefined ||
    (seLinuxTypes.has(options.type ?? '') && options.user === undefined && options.role === undefined);
  if (!seLinuxOk(podSc.seLinuxOptions)) found.push('seLinuxOptions');
  each((_, sc) => (seLinuxOk(sc.seLinuxOptions) ? undefined : 'seLinuxOptions'));
  each((_, sc) => (sc.procMount === undefined || sc.procMount === 'Default' ? undefined : `procMount ${sc.procMount}`));
  if (podSc.seccompProfile?.type === 'Unconfined') found.push('seccompProfile Unconfined');
  each((_, sc) => (sc.seccompProfile?.type === 'Unconfined' ? 'seccompProfile Unconfined' : undefined));
  for (const sysctl of podSc.sysctls ?? []) if (!safeSysctls.has(sysctl.name)) found.push(`sysctl ${sysctl.name}`);
  if (level === 'baseline') return found;

  // restricted
  for (const volume of pod.volumes ?? []) {
    const kind = Object.keys(volume).find((key) => key !== 'name');
    if (kind !== undefined && !restrictedVolumes.has(kind)) found.push(`volume type ${kind} (${volume.name})`);
  }
  each((_, sc) => (sc.allowPrivilegeEscalation === false ? undefined : 'allowPrivilegeEscalation != false'));
  each((_, sc) =>
    sc.runAsNonRoot === false || (sc.runAsNonRoot === undefined && podSc.runAsNonRoot !== true)
      ? 'runAsNonRoot != true'
      : undefined,
  );
  if (podSc.runAsUser === 0) found.push('runAsUser=0 (pod)');
  each((_, sc) => (sc.runAsUser === 0 ? 'runAsUser=0' : undefined));
  const seccompSet = (profile: any) => profile !== undefined && ['RuntimeDefault', 'Localhost'].includes(profile.type);
  each((_, sc) =>
    seccompSet(sc.seccompProfile) || (sc.seccompProfile === undefined && seccompSet(podSc.seccompProfile))
      ? undefined
      : 'seccompProfile not set',
  );
  each((_, sc) => ((sc.capabilities?.drop ?? []).includes('ALL') ? undefined : 'capabilities.drop lacks ALL'));
  each((_, sc) => {
    const extra = (sc.capabilities?.add ?? []).filter((cap: string) => cap !== 'NET_BIND_SERVICE');
    return extra.length > 0 ? `restricted capabilities.add ${extra.join(',')}` : undefined;
  });
  return found;
}
