// Temporal TLS, mTLS and API key in the config: plaintext by default, the Temporal CLI's environment
// variables, PEM files read and checked at load (each problem naming the config path and the
// file), an API key that implies TLS and never prints.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/config/load-config.js';
import { describeTemporalConnection, temporalConnectionOptions } from '../../../src/config/temporal-connection.js';
import { secretEnvNames } from '../../../src/config/worker-secrets.js';
import { Secret } from '../../../src/core/secret.js';
import { configScratch, minimalConfig } from '../../helpers/config-files.js';
import { makeTestPki, type TestPki } from '../../helpers/test-pki.js';

const { dir, load } = configScratch('gatehouse-temporal-config-');
let pki: TestPki;
beforeAll(() => {
  pki = makeTestPki(join(dir, 'pki'));
});

const valid = (temporal = '') =>
  minimalConfig(`temporal:
  address: temporal.example:7233
${temporal}`);

function problemsOf(text: string, env: Record<string, string> = {}): string[] {
  try {
    load(text, env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
}

const mtlsEnv = () => ({
  TEMPORAL_TLS_SERVER_NAME: pki.serverName,
  TEMPORAL_TLS_CA: pki.caFile,
  TEMPORAL_TLS_CERT: pki.clientCertFile,
  TEMPORAL_TLS_KEY: pki.clientKeyFile,
});

describe('temporal TLS and API key', () => {
  it('is plaintext without a key by default', () => {
    const config = load(valid());
    expect(config.temporal.tls).toBeUndefined();
    expect(config.temporal.apiKey).toBeUndefined();
    expect(config.temporalTls).toBeUndefined();
    expect(temporalConnectionOptions(config)).toEqual({ address: 'temporal.example:7233' });
    expect(describeTemporalConnection(config)).toBe('temporal.example:7233/default: plaintext');
  });

  it('reads the files of a tls section, relative to the config file, into the SDK options', () => {
    const config = load(
      valid(`  tls:
    serverName: ${pki.serverName}
    serverCaFile: pki/ca.crt
    clientCertFile: pki/client.crt
    clientKeyFile: pki/client.key`),
    );
    const options = temporalConnectionOptions(config);
    expect(options.tls?.serverNameOverride).toBe(pki.serverName);
    expect(options.tls?.serverRootCACertificate?.toString()).toBe(readFileSync(pki.caFile, 'utf8'));
    expect(options.tls?.clientCertPair?.crt.toString()).toBe(readFileSync(pki.clientCertFile, 'utf8'));
    expect(options.tls?.clientCertPair?.key.toString()).toBe(readFileSync(pki.clientKeyFile, 'utf8'));
    expect(options.apiKey).toBeUndefined();
    expect(describeTemporalConnection(config)).toBe(
      `temporal.example:7233/default: TLS (CA file, server name ${pki.serverName}, client certificate)`,
    );
  });

  it("takes the Temporal CLI's environment variables, over the file", () => {
    const config = load(valid('  tls: { serverName: from-the-file }'), { ...mtlsEnv(), TEMPORAL_API_KEY: 'key-1' });
    expect(config.temporal.tls).toEqual({
      serverName: pki.serverName,
      serverCaFile: pki.caFile,
      clientCertFile: pki.clientCertFile,
      clientKeyFile: pki.clientKeyFile,
    });
    expect(config.temporal.apiKey).toEqual({ env: 'TEMPORAL_API_KEY' });
    expect(config.temporalApiKey?.reveal()).toBe('key-1');
    const options = temporalConnectionOptions(config);
    expect(options).toMatchObject({ apiKey: 'key-1', tls: { serverNameOverride: pki.serverName } });
    expect(options.tls?.clientCertPair).toBeDefined();

    expect(temporalConnectionOptions(load(valid(), { TEMPORAL_TLS: 'true' })).tls).toEqual({});
    const off = load(valid('  tls: { serverCaFile: absent.pem }'), { TEMPORAL_TLS: 'false' });
    expect(off.temporal.tls).toBeUndefined();
    expect(temporalConnectionOptions(off).tls).toBeUndefined();
    expect(problemsOf(valid(), { TEMPORAL_TLS: 'yes' })).toEqual(['TEMPORAL_TLS: expected true or false, not "yes"']);
    expect(problemsOf(valid(), { TEMPORAL_TLS: 'false', TEMPORAL_TLS_CA: pki.caFile })).toEqual([
      'TEMPORAL_TLS: false contradicts TEMPORAL_TLS_CA',
    ]);
  });

  it('turns TLS on with the system roots for an API key, and refuses one over plaintext', () => {
    const config = load(valid('  apiKey: { env: MY_TEMPORAL_KEY }'), { MY_TEMPORAL_KEY: 'key-2' });
    expect(config.temporal.tls).toEqual({});
    expect(temporalConnectionOptions(config)).toEqual({ address: 'temporal.example:7233', tls: {}, apiKey: 'key-2' });
    expect(describeTemporalConnection(config)).toBe('temporal.example:7233/default: TLS (system roots), API key');
    expect(problemsOf(valid(), { TEMPORAL_API_KEY: 'key-3', TEMPORAL_TLS: 'false' })).toEqual([
      '/temporal/apiKey: an API key is only sent over TLS, but TEMPORAL_TLS=false turns TLS off',
    ]);
    expect(problemsOf(valid('  apiKey: { env: MY_TEMPORAL_KEY }'))).toEqual([
      '/temporal/apiKey: environment variable MY_TEMPORAL_KEY is not set',
    ]);
    expect(problemsOf(valid('  apiKey: { file: absent-key }'))).toEqual([
      '/temporal/apiKey: secret file absent-key cannot be read',
    ]);
  });

  it('refuses a client certificate without its key, and a key without its certificate', () => {
    const expected = [
      '/temporal/tls: clientCertFile and clientKeyFile go together (mTLS needs both); set both or neither',
    ];
    expect(problemsOf(valid(), { TEMPORAL_TLS_CERT: pki.clientCertFile })).toEqual(expected);
    expect(problemsOf(valid(`  tls: { clientKeyFile: ${pki.clientKeyFile} }`))).toEqual(expected);
  });

  it('names the config path and the file of a missing, invalid or mismatched PEM file', () => {
    const garbage = join(dir, 'garbage.pem');
    writeFileSync(garbage, 'not a certificate\n');
    const broken = join(dir, 'broken.pem');
    writeFileSync(broken, '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n');
    expect(problemsOf(valid(), { TEMPORAL_TLS_CA: join(dir, 'absent.pem') })).toEqual([
      `/temporal/tls/serverCaFile: cannot read ${join(dir, 'absent.pem')}: ENOENT`,
    ]);
    expect(problemsOf(valid(), { TEMPORAL_TLS_CA: garbage })).toEqual([
      `/temporal/tls/serverCaFile: ${garbage} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`,
    ]);
    expect(problemsOf(valid(), { TEMPORAL_TLS_CA: broken })[0]).toMatch(
      new RegExp(`^/temporal/tls/serverCaFile: ${broken} holds an invalid certificate`),
    );
    expect(problemsOf(valid(), { ...mtlsEnv(), TEMPORAL_TLS_KEY: garbage })).toEqual([
      `/temporal/tls/clientKeyFile: ${garbage} holds no valid PEM private key (unencrypted PKCS#8, EC or RSA)`,
    ]);
    expect(problemsOf(valid(), { ...mtlsEnv(), TEMPORAL_TLS_KEY: pki.serverKeyFile })).toEqual([
      `/temporal/tls/clientKeyFile: ${pki.serverKeyFile} is not the private key of ${pki.clientCertFile}`,
    ]);
    expect(problemsOf(valid(), { ...mtlsEnv(), TEMPORAL_TLS_CERT: garbage })).toEqual([
      `/temporal/tls/clientCertFile: ${garbage} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`,
    ]);
  });

  it('never shows the API key or the client key in JSON or util.inspect, and drops the key from a worker environment', () => {
    const config = load(valid(), { ...mtlsEnv(), TEMPORAL_API_KEY: 'temporal-api-key-value' });
    const clientKey = readFileSync(pki.clientKeyFile, 'utf8').split('\n')[1]!;
    expect(config.temporalApiKey).toBeInstanceOf(Secret);
    expect(config.temporalTls?.client?.key).toBeInstanceOf(Secret);
    for (const shown of [JSON.stringify(config), inspect(config, { depth: 20 }), String(config.temporalApiKey)]) {
      expect(shown).not.toContain('temporal-api-key-value');
      expect(shown).not.toContain(clientKey);
    }
    expect(JSON.stringify(config)).toContain('"temporalApiKey":"[redacted]"');
    expect(secretEnvNames(config)).toContain('TEMPORAL_API_KEY');
  });
});
