// Where the Argo test bed's binaries and manifests are: built by scripts/build-argo-bed.sh into
// .tools/argo-bed/<key>/ (minutes the first time, then at once), or ARGO_BED_DIR when set.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export interface BedTools {
  dir: string;
  /** bin/<name> of the bed: etcd, kube-apiserver, kubectl, kube-scheduler, kube-controller-manager, argo, workflow-controller, kwok. */
  bin(name: string): string;
  /** manifests/<name>: Argo's CRDs and RBAC, kwok's stock stages. */
  manifest(name: string): string;
  /** The pinned versions, by part: etcd, kubernetes, argo-workflows, kwok. */
  versions: Record<string, string>;
}

export function bedTools(projectRoot = process.cwd()): BedTools {
  const fromEnv = process.env.ARGO_BED_DIR;
  const dir =
    fromEnv !== undefined && fromEnv !== ''
      ? fromEnv
      : execFileSync('bash', [resolve(projectRoot, 'scripts/build-argo-bed.sh')], {
          encoding: 'utf8',
          stdio: ['ignore', 'pipe', 'inherit'],
        })
          .trim()
          .split('\n')
          .at(-1)!;
  const versions = Object.fromEntries(
    readFileSync(join(dir, 'VERSIONS'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => line.split(' ') as [string, string]),
  );
  return { dir, bin: (name) => join(dir, 'bin', name), manifest: (name) => join(dir, 'manifests', name), versions };
}
