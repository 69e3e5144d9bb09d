// The ledger's connection string is handed only to the workers that run the billing activities:
// the loader (the bridge, every worker) does not need it, the worker secrets resolve it on demand.
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/config/load-config.js';
import { resolveWorkerSecrets } from '../../../src/config/worker-secrets.js';
import { configScratch, minimalConfig } from '../../helpers/config-files.js';

const { load } = configScratch('gatehouse-ledger-url-');
const withLedger = `${minimalConfig()}ledger: { url: { env: GATEHOUSE_LEDGER_URL } }\n`;
const none = { statusApis: false, argo: false, reconcile: false, callback: false };

describe('ledger.url', () => {
  it('loads without the variable: the bridge and the workers without billing never see it', () => {
    const config = load(withLedger);
    expect(config.ledgerUrl).toBeUndefined();
    expect(resolveWorkerSecrets(config, {}, none).ledgerUrl).toBeUndefined();
  });

  it('is resolved for a worker that runs billing, and missing there is a start-up error naming it', () => {
    const config = load(withLedger);
    const url = 'postgres://ledger:pw@db:5432/ledger';
    expect(
      resolveWorkerSecrets(config, { GATEHOUSE_LEDGER_URL: url }, { ...none, ledger: true }).ledgerUrl?.reveal(),
    ).toBe(url);
    expect(() => resolveWorkerSecrets(config, {}, { ...none, ledger: true })).toThrow(ConfigError);
    expect(() => resolveWorkerSecrets(config, {}, { ...none, ledger: true })).toThrow(
      '/ledger/url: environment variable GATEHOUSE_LEDGER_URL is not set',
    );
  });
});
