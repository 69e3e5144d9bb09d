// The profile's OIDC issuer as openid-client sees it, shared by both sign-ins (device grant and
// loopback redirect) and by refresh and logout: discovery (plain http only for an issuer on this
// machine, the development issuer), the public client's id, and turning a token answer into what
// the store keeps.
import * as oidc from 'openid-client';
import { CliError, exitCodes } from './errors.js';
import type { Profile, StoredTokens } from './store.js';

/** Plain http only to an issuer on this machine (the development issuer). */
function isLoopback(url: URL): boolean {
  return ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);
}

export function issuerOf(profile: Profile): { issuer: URL; clientId: string } {
  if (profile.issuer === undefined || profile.issuer === '')
    throw new CliError(
      'GATEHOUSE_CLI_NO_ISSUER',
      'No issuer to sign in with',
      'set one: `gatehouse profile set <name> --issuer https://idp.example.com --client-id gatehouse-cli`',
    );
  return { issuer: new URL(profile.issuer), clientId: profile.clientId ?? 'gatehouse-cli' };
}

export async function discoverIssuer(profile: Profile): Promise<oidc.Configuration> {
  const { issuer, clientId } = issuerOf(profile);
  try {
    return await oidc.discovery(issuer, clientId, undefined, oidc.None(), {
      ...(issuer.protocol === 'http:' && isLoopback(issuer) ? { execute: [oidc.allowInsecureRequests] } : {}),
    });
  } catch (error) {
    throw new CliError(
      'GATEHOUSE_CLI_ISSUER',
      'The issuer could not be used',
      `${issuer.href}: ${describeOidcError(error)}`,
      exitCodes.unreachable,
    );
  }
}

/** The issuer's own words where it gave some (an OAuth error and its description), else the message. */
export function describeOidcError(error: unknown): string {
  if (error instanceof oidc.ResponseBodyError || error instanceof oidc.AuthorizationResponseError)
    return `${error.error}${error.error_description === undefined ? '' : `: ${error.error_description}`}`;
  const cause = (error as { cause?: { message?: string } }).cause;
  return `${(error as Error).message}${cause?.message === undefined ? '' : ` (${cause.message})`}`;
}

/** The scopes a sign-in asks for: a refresh token, and what the profile adds for its IdP. */
export function scopesFor(profile: Profile, ...always: string[]): string {
  return [...always, 'offline_access', ...(profile.scope ?? '').split(' ').filter(Boolean)].join(' ');
}

export function toStoredTokens(
  tokens: oidc.TokenEndpointResponse & oidc.TokenEndpointResponseHelpers,
  profile: Profile,
  previous?: StoredTokens,
): StoredTokens {
  const { issuer, clientId } = issuerOf(profile);
  const expiresIn = tokens.expiresIn();
  const refreshToken = tokens.refresh_token ?? previous?.refreshToken;
  return {
    accessToken: tokens.access_token,
    ...(refreshToken === undefined ? {} : { refreshToken }),
    ...(expiresIn === undefined ? {} : { expiresAt: Math.floor(Date.now() / 1000) + expiresIn }),
    issuer: issuer.href,
    clientId,
  };
}
