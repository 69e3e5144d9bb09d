// Where the JWKS comes from: `auth.jwksUrl` when set, else the issuer's OIDC discovery document,
// which must name the very issuer it was fetched for (OIDC Discovery §4.3). Used by the bridge's
// token verifier and by the edge's key sync.
export async function discoverJwksUrl(issuer: string, jwksUrl: string | undefined, timeoutMs: number): Promise<URL> {
  if (jwksUrl !== undefined) return new URL(jwksUrl);
  const discovery = `${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
  const response = await fetch(discovery, { signal: AbortSignal.timeout(timeoutMs) });
  if (!response.ok) throw new Error(`OIDC discovery answered ${response.status}`);
  const document = (await response.json()) as { issuer?: unknown; jwks_uri?: unknown };
  if (document.issuer !== issuer) throw new Error('OIDC discovery names another issuer');
  if (typeof document.jwks_uri !== 'string') throw new Error('OIDC discovery has no jwks_uri');
  return new URL(document.jwks_uri);
}
