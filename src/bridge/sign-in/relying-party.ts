// The bridge as the OpenID Connect relying party of auth.issuer, with openid-client (a certified
// RP, on the jose the bridge already uses). The IdP's metadata comes from its discovery document,
// fetched when first needed and again after an hour; a failed fetch is not remembered, so the next
// sign-in tries again. Plain http is accepted only for an issuer on loopback (the dev issuer).
import * as client from 'openid-client';
import type { Secret } from '../../core/secret.js';

export interface RelyingParty {
  configuration(): Promise<client.Configuration>;
}

const metadataMaxAgeMs = 3_600_000;

export function createRelyingParty(options: {
  issuer: string;
  clientId: string;
  clientSecret?: Secret;
  timeoutSeconds: number;
  now?: () => number;
}): RelyingParty {
  const now = options.now ?? Date.now;
  let held: { configuration: Promise<client.Configuration>; at: number } | undefined;
  const issuer = new URL(options.issuer);
  const insecure = issuer.protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(issuer.hostname);
  const discover = () =>
    client.discovery(
      issuer,
      options.clientId,
      options.clientSecret === undefined ? undefined : options.clientSecret.reveal(),
      options.clientSecret === undefined ? client.None() : client.ClientSecretPost(options.clientSecret.reveal()),
      { timeout: options.timeoutSeconds, ...(insecure ? { execute: [client.allowInsecureRequests] } : {}) },
    );
  return {
    configuration() {
      if (held === undefined || now() - held.at > metadataMaxAgeMs) {
        const attempt = { configuration: discover(), at: now() };
        held = attempt;
        attempt.configuration.catch(() => {
          if (held === attempt) held = undefined;
        });
      }
      return held.configuration;
    },
  };
}
