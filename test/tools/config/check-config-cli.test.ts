// `npm run check-config` checks what the bridge *and* the worker would check: webhook secrets,
// status-API and Argo tokens, Temporal's TLS files and API key, and the Cedar policies against
// their schema. A config the worker would refuse is refused here too, with exit 2 and the path
// named.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { testConfigFile, testSecrets } from '../../helpers/gatehouse.js';

const run = promisify(execFile);

async function checkConfig(env: Record<string, string>): Promise<{ code: number; out: string }> {
  try {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'check-config'], {
      env: { PATH: process.env.PATH ?? '', GATEHOUSE_JWT_ISSUER: 'https://idp.test', ...env },
    });
    return { code: 0, out: stdout };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, out: failed.stdout + failed.stderr };
  }
}

// One at a time: four CLI processes loading the sources at once starve each other on two cores.
describe('check-config', () => {
  it("passes a good config and prints each queue's workflows and activity groups", async () => {
    const { code, out } = await checkConfig({ GATEHOUSE_CONFIG: testConfigFile, ...testSecrets });
    expect(code, out).toBe(0);
    expect(out).toContain('  temporal 127.0.0.1:7233/default: plaintext');
    expect(out).toContain('POST /v1/jobs/ci -> ciPipeline on placeholder');
    expect(out).toMatch(/worker --queues placeholder: .*ciPipeline.*; activities: /);
  }, 20_000);

  it('refuses a missing status-API token, as the worker would', async () => {
    const { TEST_STATUS_TOKEN: _, ...withoutToken } = testSecrets;
    const { code, out } = await checkConfig({ GATEHOUSE_CONFIG: testConfigFile, ...withoutToken });
    expect(code).toBe(2);
    expect(out).toContain('/ci/statusApis/github/token: environment variable TEST_STATUS_TOKEN is not set');
  }, 20_000);

  it('refuses Temporal TLS files that cannot be read or are not PEM, and a missing API key', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-check-'));
    writeFileSync(join(dir, 'not-a-cert.pem'), 'hello\n');
    const config = readFileSync(testConfigFile, 'utf8')
      .replace('temporal:\n', 'temporal:\n  apiKey: { env: TEST_TEMPORAL_API_KEY }\n')
      .replaceAll('../../', `${resolve('.')}/`);
    writeFileSync(join(dir, 'gatehouse.yaml'), config);
    const { code, out } = await checkConfig({
      GATEHOUSE_CONFIG: join(dir, 'gatehouse.yaml'),
      ...testSecrets,
      TEMPORAL_TLS_CA: join(dir, 'absent-ca.pem'),
      TEMPORAL_TLS_CERT: join(dir, 'not-a-cert.pem'),
      TEMPORAL_TLS_KEY: join(dir, 'not-a-cert.pem'),
    });
    expect(code).toBe(2);
    expect(out).toContain('/temporal/apiKey: environment variable TEST_TEMPORAL_API_KEY is not set');
    expect(out).toContain(`/temporal/tls/serverCaFile: cannot read ${join(dir, 'absent-ca.pem')}: ENOENT`);
    expect(out).toContain(`/temporal/tls/clientCertFile: ${join(dir, 'not-a-cert.pem')} holds no PEM certificate`);
    expect(out).toContain(`/temporal/tls/clientKeyFile: ${join(dir, 'not-a-cert.pem')} holds no valid PEM private key`);
  }, 20_000);

  it('refuses Cedar policies that do not fit the schema, as the worker would', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-check-'));
    writeFileSync(
      join(dir, 'bad.cedar'),
      '@id("typo") permit(principal, action == Gatehouse::Action::"run-cj", resource);\n',
    );
    const policies = resolve('config/policies');
    const config = readFileSync(testConfigFile, 'utf8')
      .replace('policies: ../../config/policies/gatehouse.cedar', `policies: ${join(dir, 'bad.cedar')}`)
      .replace('entities: ../../config/policies/entities.json', `entities: ${join(policies, 'entities.json')}`)
      .replace(
        'schema: ../../config/policies/gatehouse.cedarschema',
        `schema: ${join(policies, 'gatehouse.cedarschema')}`,
      )
      .replaceAll('../../', `${resolve('.')}/`);
    writeFileSync(join(dir, 'gatehouse.yaml'), config);
    const { code, out } = await checkConfig({ GATEHOUSE_CONFIG: join(dir, 'gatehouse.yaml'), ...testSecrets });
    expect(code).toBe(2);
    expect(out).toMatch(/\/policy: Cedar policies do not fit the schema/);
  }, 20_000);
});
