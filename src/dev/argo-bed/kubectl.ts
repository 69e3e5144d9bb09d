// kubectl for the Argo test bed: kubeconfig files (a client certificate or a bearer token, the
// bed's CA pinned) and a runner that says what kubectl printed when it fails.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { stringify } from 'yaml';

export type KubeUser = { clientCertificate: string; clientKey: string } | { token: string };

/** Writes a kubeconfig for one user of the bed's API server and returns its path. */
export function writeKubeconfig(file: string, options: { server: string; caFile: string; user: KubeUser }): string {
  const user =
    'token' in options.user
      ? { token: options.user.token }
      : { 'client-certificate': options.user.clientCertificate, 'client-key': options.user.clientKey };
  writeFileSync(
    file,
    stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'argo-bed', cluster: { server: options.server, 'certificate-authority': options.caFile } }],
      users: [{ name: 'argo-bed', user }],
      contexts: [{ name: 'argo-bed', context: { cluster: 'argo-bed', user: 'argo-bed' } }],
      'current-context': 'argo-bed',
    }),
    { mode: 0o600 },
  );
  return file;
}

export interface KubectlOptions {
  /** Another kubeconfig than the admin's (a ServiceAccount's, to see what it may do). */
  kubeconfig?: string;
  /** Written to kubectl's stdin (`apply -f -`). */
  input?: string;
  timeoutMs?: number;
}

/** Runs kubectl and resolves with its stdout; rejects with its stderr when it exits non-zero. */
export function runKubectl(binary: string, kubeconfig: string, args: string[], options: KubectlOptions = {}) {
  return new Promise<string>((resolve, reject) => {
    const child = spawn(binary, ['--kubeconfig', options.kubeconfig ?? kubeconfig, ...args], {
      stdio: ['pipe', 'pipe', 'pipe'],
      timeout: options.timeoutMs ?? 120_000,
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.once('error', reject);
    child.once('close', (code, signal) => {
      if (code === 0) resolve(out);
      else reject(new Error(`kubectl ${args.join(' ')} exited ${code ?? signal}: ${err.trim().slice(-2_000)}`));
    });
    child.stdin.end(options.input ?? '');
  });
}
