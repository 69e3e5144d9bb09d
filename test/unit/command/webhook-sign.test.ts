// `gatehouse webhook sign` signs the way each provider does: what it prints passes the bridge's own
// webhook adapter (delivery headers read, signature form, signature over the exact body), and a
// different secret or body does not.
import { describe, expect, it } from 'vitest';
import { providerHeaders } from '../../../src/command/admin-commands.js';
import { Secret } from '../../../src/core/secret.js';
import { providers } from '../../../src/providers/registry.js';

const body = JSON.stringify({ ref: 'refs/heads/main', after: 'a'.repeat(40) });
const secrets = (value: string) => ({ secrets: [new Secret(value)], signingSecrets: [] });

describe.each(['github', 'gitlab', 'gitea', 'bitbucket'] as const)('webhook sign for %s', (name) => {
  const adapter = providers[name].webhook;

  it('prints headers the bridge accepts for this body and secret', async () => {
    const headers = providerHeaders(name, 'push', 's3cret', body);
    expect(adapter.readDelivery(headers)).toMatchObject({ event: 'push' });
    expect(adapter.looksSigned(headers, secrets('s3cret'))).toBe(true);
    expect(await adapter.verify(headers, Buffer.from(body), secrets('s3cret'))).toBe(true);
  });

  it('is refused with another secret, or another body', async () => {
    const headers = providerHeaders(name, 'push', 's3cret', body);
    expect(await adapter.verify(headers, Buffer.from(body), secrets('other'))).toBe(false);
    if (name !== 'gitlab')
      expect(await adapter.verify(headers, Buffer.from(`${body} `), secrets('s3cret'))).toBe(false);
  });
});
