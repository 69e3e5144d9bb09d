// ci.sandbox.egress and the rule that network steps need an authenticated Temporal, as the loader
// (and so check-config, the bridge and the worker) applies them.
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/config/load-config.js';
import { configScratch, minimalConfig } from '../../helpers/config-files.js';

const { dir, load } = configScratch('gatehouse-egress-');

const withCi = (ci: string, temporal = '') => `${minimalConfig(temporal)}ci:\n${ci}`;
const networked = `  pipelines:
    - { repositories: ['acme/*'], runner: steps, network: true, steps: [{ name: t, run: 'true' }] }
`;

function problemsOf(text: string, env: Record<string, string> = {}): string[] {
  try {
    load(text, env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
}

describe('network steps and the egress settings', () => {
  it('refuses network: true while Temporal has neither an mTLS client certificate nor an API key', () => {
    expect(problemsOf(withCi(networked))).toEqual([
      '/ci/pipelines/0/network: steps with network run next to a Temporal that accepts anyone (no mTLS client certificate, no API key); authenticate the worker to Temporal, or set ci.sandbox.allowNetworkWithoutTemporalAuth: true',
    ]);
    // Server-only TLS authenticates the server, not the worker.
    expect(problemsOf(withCi(networked), { TEMPORAL_TLS: 'true' })).toHaveLength(1);
  });

  it('accepts network: true with an API key, with mTLS files, or when the operator says so', () => {
    expect(() => load(withCi(networked), { TEMPORAL_API_KEY: 'key-123' })).not.toThrow();
    const cert = `${dir}/client.pem`;
    expect(
      problemsOf(withCi(networked), { TEMPORAL_TLS_CERT: cert, TEMPORAL_TLS_KEY: cert }).some((p) =>
        p.includes('/network'),
      ),
    ).toBe(false);
    const config = load(withCi(`  sandbox: { allowNetworkWithoutTemporalAuth: true }\n${networked}`));
    expect(config.ci.sandbox.egress).toEqual({
      allow: [],
      deny: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '100.64.0.0/10', 'fc00::/7'],
    });
    expect(config.ci.sandbox).toMatchObject({
      uid: 60000,
      gid: 60000,
      ids: 1000,
      proc: 'private',
      allowWorkerUid: false,
    });
  });

  it('names an allow entry that is not host:port and a range that is not a CIDR', () => {
    const problems = problemsOf(
      withCi(
        `  sandbox:\n    egress: { allow: ['github.com:443', 'github.com:99999'], deny: ['10.0.0.0/33', '::/0'] }\n`,
      ),
    );
    expect(problems).toContain(
      '/ci/sandbox/egress/allow/1: "github.com:99999" is not host:port, *.host:port or [ipv6]:port',
    );
    expect(problems).toContain('/ci/sandbox/egress/deny/0: "10.0.0.0/33" is not a CIDR');
    expect(problems.join('\n')).not.toContain('github.com:443');
    expect(problems.join('\n')).not.toContain('::/0');
  });
});
