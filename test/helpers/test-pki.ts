// A throwaway PKI for the Temporal TLS tests, made with openssl: a CA, a server certificate for one
// DNS name, a client certificate (mTLS), and a second CA that signed none of them.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface TestPki {
  dir: string;
  caFile: string;
  /** A CA that signed nothing here: verifying the server against it must fail. */
  otherCaFile: string;
  serverName: string;
  serverCertFile: string;
  serverKeyFile: string;
  /** Certificate and key in one file, as HAProxy's `crt` wants them. */
  serverPemFile: string;
  clientCertFile: string;
  clientKeyFile: string;
}

const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];

function openssl(args: string[]): void {
  execFileSync('openssl', args, { stdio: 'pipe' });
}

function makeCa(dir: string, name: string): { cert: string; key: string } {
  const cert = join(dir, `${name}.crt`);
  const key = join(dir, `${name}.key`);
  openssl([
    'req',
    '-x509',
    ...ec,
    '-days',
    '2',
    '-keyout',
    key,
    '-out',
    cert,
    '-subj',
    `/CN=Gatehouse ${name}`,
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  return { cert, key };
}

function makeLeaf(
  dir: string,
  name: string,
  ca: { cert: string; key: string },
  subject: string,
  extensions: string[],
): { cert: string; key: string } {
  const cert = join(dir, `${name}.crt`);
  const key = join(dir, `${name}.key`);
  const csr = join(dir, `${name}.csr`);
  const ext = join(dir, `${name}.ext`);
  writeFileSync(ext, `${['basicConstraints=critical,CA:FALSE', ...extensions].join('\n')}\n`);
  openssl(['req', '-new', ...ec, '-keyout', key, '-out', csr, '-subj', subject]);
  openssl([
    'x509',
    '-req',
    '-in',
    csr,
    '-CA',
    ca.cert,
    '-CAkey',
    ca.key,
    '-CAcreateserial',
    '-days',
    '2',
    '-out',
    cert,
    '-extfile',
    ext,
  ]);
  return { cert, key };
}

export function makeTestPki(dir: string, serverName = 'temporal.test'): TestPki {
  mkdirSync(dir, { recursive: true });
  const ca = makeCa(dir, 'ca');
  const other = makeCa(dir, 'other-ca');
  const server = makeLeaf(dir, 'server', ca, `/CN=${serverName}`, [
    'keyUsage=critical,digitalSignature',
    'extendedKeyUsage=serverAuth',
    `subjectAltName=DNS:${serverName}`,
  ]);
  const client = makeLeaf(dir, 'client', ca, '/CN=gatehouse-test-client', [
    'keyUsage=critical,digitalSignature',
    'extendedKeyUsage=clientAuth',
  ]);
  const serverPemFile = join(dir, 'server.pem');
  writeFileSync(serverPemFile, readFileSync(server.cert, 'utf8') + readFileSync(server.key, 'utf8'), { mode: 0o600 });
  return {
    dir,
    caFile: ca.cert,
    otherCaFile: other.cert,
    serverName,
    serverCertFile: server.cert,
    serverKeyFile: server.key,
    serverPemFile,
    clientCertFile: client.cert,
    clientKeyFile: client.key,
  };
}
