// How this process reaches Temporal: address, TLS (server CA, server name, client certificate for
// mTLS) and API key. The PEM files are read and checked once, when the config loads, so a missing
// or broken file stops the start-up (and `check-config`) with the config path and the file named.
// The bridge's client, the workers' native connection and the CI activities' client all take
// their options from temporalConnectionOptions(), so they cannot disagree.
import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { TLSConfig } from '@temporalio/client';
import { Secret } from '../core/secret.js';
import type { GatehouseConfigFile } from './schema.js';
import type { SecretResolver } from './secrets.js';

/** What temporal.tls names, read: public PEM text as is, the client key as a Secret. */
export interface TemporalTlsMaterial {
  readonly serverName?: string;
  /** PEM CA bundle; absent: the system roots. */
  readonly serverCa?: string;
  readonly client?: { readonly cert: string; readonly key: Secret };
}

export interface TemporalCredentials {
  /** Present exactly when TLS is on (temporal.tls, or an API key without one). */
  tls?: TemporalTlsMaterial;
  apiKey?: Secret;
  problems: string[];
}

/**
 * Reads temporal.tls and temporal.apiKey. An API key implies TLS (Temporal Cloud refuses plaintext,
 * and a bearer key must not cross the network in clear): without a tls section it means TLS with
 * the system roots, and TEMPORAL_TLS=false next to it is refused.
 */
export function readTemporalCredentials(
  temporal: GatehouseConfigFile['temporal'],
  options: { secrets: SecretResolver; resolvePath: (path: string) => string; tlsTurnedOff: boolean },
): TemporalCredentials {
  const problems: string[] = [];
  const apiKey =
    temporal.apiKey === undefined ? undefined : options.secrets.resolve(temporal.apiKey, '/temporal/apiKey');
  if (temporal.apiKey !== undefined && options.tlsTurnedOff)
    problems.push('/temporal/apiKey: an API key is only sent over TLS, but TEMPORAL_TLS=false turns TLS off');
  const tls = temporal.tls ?? (temporal.apiKey === undefined ? undefined : {});
  if (tls === undefined) return { problems, ...(apiKey === undefined ? {} : { apiKey }) };

  const read = (
    key: 'serverCaFile' | 'clientCertFile' | 'clientKeyFile',
  ): { file: string; text: string } | undefined => {
    const path = tls[key];
    if (path === undefined) return undefined;
    const file = options.resolvePath(path);
    try {
      return { file, text: readFileSync(file, 'utf8') };
    } catch (error) {
      problems.push(`/temporal/tls/${key}: cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`);
      return undefined;
    }
  };
  const material: { serverName?: string; serverCa?: string; client?: { cert: string; key: Secret } } = {};
  if (tls.serverName !== undefined) material.serverName = tls.serverName;

  const ca = read('serverCaFile');
  if (ca !== undefined && certificates(ca, '/temporal/tls/serverCaFile', problems).length > 0)
    material.serverCa = ca.text;

  if ((tls.clientCertFile === undefined) !== (tls.clientKeyFile === undefined)) {
    problems.push('/temporal/tls: clientCertFile and clientKeyFile go together (mTLS needs both); set both or neither');
  } else if (tls.clientCertFile !== undefined) {
    const cert = read('clientCertFile');
    const key = read('clientKeyFile');
    const [leaf] = cert === undefined ? [] : certificates(cert, '/temporal/tls/clientCertFile', problems);
    const privateKey = key === undefined ? undefined : parseKey(key, problems);
    if (cert !== undefined && key !== undefined && leaf !== undefined && privateKey !== undefined) {
      if (leaf.checkPrivateKey(privateKey)) material.client = { cert: cert.text, key: new Secret(key.text) };
      else problems.push(`/temporal/tls/clientKeyFile: ${key.file} is not the private key of ${cert.file}`);
    }
  }
  return { tls: material, problems, ...(apiKey === undefined ? {} : { apiKey }) };
}

const pemCertificate = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** Every certificate in a PEM file; none, or one that does not parse, is a problem. */
function certificates(pem: { file: string; text: string }, at: string, problems: string[]): X509Certificate[] {
  const blocks = pem.text.match(pemCertificate) ?? [];
  if (blocks.length === 0) {
    problems.push(`${at}: ${pem.file} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`);
    return [];
  }
  try {
    return blocks.map((block) => new X509Certificate(block));
  } catch (error) {
    problems.push(`${at}: ${pem.file} holds an invalid certificate: ${(error as Error).message}`);
    return [];
  }
}

function parseKey(pem: { file: string; text: string }, problems: string[]): KeyObject | undefined {
  try {
    return createPrivateKey(pem.text);
  } catch {
    // The parser's message could quote the file; the key's file name is enough.
    problems.push(
      `/temporal/tls/clientKeyFile: ${pem.file} holds no valid PEM private key (unencrypted PKCS#8, EC or RSA)`,
    );
    return undefined;
  }
}

/** The SDK's connection options: the same for Connection (client) and NativeConnection (worker). */
export interface TemporalConnectionOptions {
  address: string;
  /** Absent: plaintext. */
  tls?: TLSConfig;
  /** Sent as `authorization: Bearer <key>`. The revealed key: hand it to the SDK, never log it. */
  apiKey?: string;
}

export function temporalConnectionOptions(config: {
  temporal: { address: string };
  temporalTls?: TemporalTlsMaterial;
  temporalApiKey?: Secret;
}): TemporalConnectionOptions {
  const material = config.temporalTls;
  const tls: TLSConfig | undefined =
    material === undefined
      ? undefined
      : {
          ...(material.serverName === undefined ? {} : { serverNameOverride: material.serverName }),
          ...(material.serverCa === undefined ? {} : { serverRootCACertificate: Buffer.from(material.serverCa) }),
          ...(material.client === undefined
            ? {}
            : {
                clientCertPair: {
                  crt: Buffer.from(material.client.cert),
                  key: Buffer.from(material.client.key.reveal()),
                },
              }),
        };
  return {
    address: config.temporal.address,
    ...(tls === undefined ? {} : { tls }),
    ...(config.temporalApiKey === undefined ? {} : { apiKey: config.temporalApiKey.reveal() }),
  };
}

/** One line for operators (check-config): where and how, never a secret. */
export function describeTemporalConnection(config: {
  temporal: { address: string; namespace: string };
  temporalTls?: TemporalTlsMaterial;
  temporalApiKey?: Secret;
}): string {
  const tls = config.temporalTls;
  const how =
    tls === undefined
      ? 'plaintext'
      : `TLS (${[
          tls.serverCa === undefined ? 'system roots' : 'CA file',
          ...(tls.serverName === undefined ? [] : [`server name ${tls.serverName}`]),
          ...(tls.client === undefined ? [] : ['client certificate']),
        ].join(', ')})`;
  return `${config.temporal.address}/${config.temporal.namespace}: ${how}${config.temporalApiKey === undefined ? '' : ', API key'}`;
}
