// The Argo test bed's own PKI, made with openssl: a CA that the API server trusts for client
// certificates and serves under, the API server's serving certificate (loopback and the in-cluster
// names), an admin client certificate (group system:masters) for kubectl, kwok, the scheduler and
// the controller manager, and the key pair that signs ServiceAccount tokens. Nothing here leaves
// the bed's directory, and nothing is trusted outside the bed.
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface BedPki {
  caFile: string;
  caKeyFile: string;
  serverCertFile: string;
  serverKeyFile: string;
  adminCertFile: string;
  adminKeyFile: string;
  /** Signs ServiceAccount tokens (API server and controller manager). */
  serviceAccountKeyFile: string;
  serviceAccountPublicKeyFile: string;
}

const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];

function openssl(args: string[]): void {
  execFileSync('openssl', args, { stdio: 'pipe' });
}

/** A client or serving certificate signed by the bed's CA. */
export function signCertificate(
  dir: string,
  name: string,
  ca: { caFile: string; caKeyFile: string },
  subject: string,
  extensions: string[],
): { cert: string; key: string } {
  const cert = join(dir, `${name}.crt`);
  const key = join(dir, `${name}.key`);
  const csr = join(dir, `${name}.csr`);
  const ext = join(dir, `${name}.ext`);
  writeFileSync(ext, `${['basicConstraints=critical,CA:FALSE', ...extensions].join('\n')}\n`);
  openssl(['req', '-new', ...ec, '-keyout', key, '-out', csr, '-subj', subject]);
  openssl(
    ['x509', '-req', '-in', csr, '-CA', ca.caFile, '-CAkey', ca.caKeyFile, '-CAcreateserial'].concat([
      '-days',
      '30',
      '-out',
      cert,
      '-extfile',
      ext,
    ]),
  );
  return { cert, key };
}

export function makeBedPki(dir: string): BedPki {
  mkdirSync(dir, { recursive: true });
  const caFile = join(dir, 'ca.crt');
  const caKeyFile = join(dir, 'ca.key');
  openssl(
    ['req', '-x509', ...ec, '-days', '30', '-keyout', caKeyFile, '-out', caFile, '-subj', '/CN=argo-bed-ca'].concat([
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    ]),
  );
  const ca = { caFile, caKeyFile };
  const server = signCertificate(dir, 'apiserver', ca, '/CN=kube-apiserver', [
    'keyUsage=critical,digitalSignature',
    'extendedKeyUsage=serverAuth',
    'subjectAltName=IP:127.0.0.1,IP:10.96.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,' +
      'DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local',
  ]);
  const admin = signCertificate(dir, 'admin', ca, '/O=system:masters/CN=argo-bed-admin', [
    'keyUsage=critical,digitalSignature',
    'extendedKeyUsage=clientAuth',
  ]);
  const serviceAccountKeyFile = join(dir, 'sa.key');
  const serviceAccountPublicKeyFile = join(dir, 'sa.pub');
  openssl(['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', serviceAccountKeyFile]);
  openssl(['pkey', '-in', serviceAccountKeyFile, '-pubout', '-out', serviceAccountPublicKeyFile]);
  return {
    caFile,
    caKeyFile,
    serverCertFile: server.cert,
    serverKeyFile: server.key,
    adminCertFile: admin.cert,
    adminKeyFile: admin.key,
    serviceAccountKeyFile,
    serviceAccountPublicKeyFile,
  };
}
