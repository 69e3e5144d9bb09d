// Signing in from a terminal: the OAuth 2.0 device authorization grant (RFC 8628) through
// openid-client against the profile's issuer. The command shows a code and a URL, the person
// approves it in any browser, and the tokens are kept per profile (store.ts, mode 0600). An
// expired access token is refreshed with the refresh token before a call; a refresh the issuer
// refuses (revoked, expired session) removes the stored tokens and asks to sign in again.
import * as oidc from 'openid-client';
import { CliError, exitCodes } from './errors.js';
import type { Profile, Store, StoredTokens } from './store.js';

/** Refresh this long before the issuer's expiry, so a token does not expire on its way. */
const refreshMarginSeconds = 30;

/** Plain http only to an issuer on this machine (the development issuer). */
function isLoopback(url: URL): boolean {
  return ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);
}

function issuerOf(profile: Profile): { issuer: URL; clientId: string } {
  if (profile.issuer === undefined || profile.issuer === '')
    throw new CliError(
      'GATEHOUSE_CLI_NO_ISSUER',
      'No issuer to sign in with',
      'set one: `gatehouse profile set <name> --issuer https://idp.example.com --client-id gatehouse-cli`',
    );
  return { issuer: new URL(profile.issuer), clientId: profile.clientId ?? 'gatehouse-cli' };
}

async function discover(profile: Profile): Promise<oidc.Configuration> {
  const { issuer, clientId } = issuerOf(profile);
  try {
    return await oidc.discovery(issuer, clientId, undefined, oidc.None(), {
      ...(issuer.protocol === 'http:' && isLoopback(issuer) ? { execute: [oidc.allowInsecureRequests] } : {}),
    });
  } catch (error) {
    throw new CliError(
      'GATEHOUSE_CLI_ISSUER',
      'The issuer could not be used',
      `${issuer.href}: ${describe(error)}`,
      exitCodes.unreachable,
    );
  }
}

function describe(error: unknown): string {
  if (error instanceof oidc.ResponseBodyError)
    return `${error.error}${error.error_description === undefined ? '' : `: ${error.error_description}`}`;
  const cause = (error as { cause?: { message?: string } }).cause;
  return `${(error as Error).message}${cause?.message === undefined ? '' : ` (${cause.message})`}`;
}

function toStored(
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

export interface DevicePrompt {
  verificationUri: string;
  verificationUriComplete?: string;
  userCode: string;
  expiresIn: number;
}

/** The device grant from start to tokens; `prompt` tells the person where to go and what to type. */
export async function deviceLogin(
  store: Store,
  profileName: string,
  profile: Profile,
  prompt: (what: DevicePrompt) => void,
  signal?: AbortSignal,
): Promise<StoredTokens> {
  const config = await discover(profile);
  if (config.serverMetadata().device_authorization_endpoint === undefined)
    throw new CliError(
      'GATEHOUSE_CLI_NO_DEVICE_GRANT',
      'The issuer does not offer device sign-in',
      `${profile.issuer} has no device_authorization_endpoint`,
      exitCodes.usage,
    );
  const scope = ['offline_access', ...(profile.scope ?? '').split(' ').filter(Boolean)].join(' ');
  try {
    const started = await oidc.initiateDeviceAuthorization(config, { scope });
    prompt({
      verificationUri: started.verification_uri,
      ...(started.verification_uri_complete === undefined
        ? {}
        : { verificationUriComplete: started.verification_uri_complete }),
      userCode: started.user_code,
      expiresIn: started.expires_in,
    });
    const tokens = await oidc.pollDeviceAuthorizationGrant(
      config,
      started,
      undefined,
      signal === undefined ? {} : { signal },
    );
    const stored = toStored(tokens, profile);
    store.writeTokens(profileName, stored);
    return stored;
  } catch (error) {
    if (error instanceof CliError) throw error;
    throw new CliError('GATEHOUSE_CLI_LOGIN_FAILED', 'Sign-in failed', describe(error), exitCodes.signedOut);
  }
}

/** The profile's tokens, refreshed first when the access token has expired (or is about to). */
export async function freshTokens(store: Store, profileName: string, profile: Profile): Promise<StoredTokens> {
  const tokens = store.readTokens(profileName);
  if (tokens === undefined)
    throw new CliError(
      'GATEHOUSE_CLI_SIGNED_OUT',
      'Not signed in',
      `run \`gatehouse login${profileName === 'default' ? '' : ` --profile ${profileName}`}\` (or set GATEHOUSE_TOKEN)`,
      exitCodes.signedOut,
    );
  const now = Math.floor(Date.now() / 1000);
  if (tokens.expiresAt === undefined || tokens.expiresAt - refreshMarginSeconds > now) return tokens;
  const again = `the session ended; run \`gatehouse login${profileName === 'default' ? '' : ` --profile ${profileName}`}\``;
  if (tokens.refreshToken === undefined)
    throw new CliError('GATEHOUSE_CLI_SIGNED_OUT', 'Signed out', again, exitCodes.signedOut);
  const config = await discover(profile);
  let refreshed: oidc.TokenEndpointResponse & oidc.TokenEndpointResponseHelpers;
  try {
    refreshed = await oidc.refreshTokenGrant(config, tokens.refreshToken);
  } catch (error) {
    if (!(error instanceof oidc.ResponseBodyError))
      throw new CliError(
        'GATEHOUSE_CLI_ISSUER',
        'The issuer could not be used',
        describe(error),
        exitCodes.unreachable,
      );
    // The issuer refused the refresh token (revoked, expired): it is of no further use.
    store.removeTokens(profileName);
    throw new CliError('GATEHOUSE_CLI_SIGNED_OUT', 'Signed out', `${again} (${describe(error)})`, exitCodes.signedOut);
  }
  const stored = toStored(refreshed, profile, tokens);
  store.writeTokens(profileName, stored);
  return stored;
}

/** Forgets the profile's tokens, revoking the refresh token at the issuer when it offers that. */
export async function logout(
  store: Store,
  profileName: string,
  profile: Profile,
): Promise<{ removed: boolean; revoked: boolean }> {
  const tokens = store.readTokens(profileName);
  let revoked = false;
  if (tokens?.refreshToken !== undefined && profile.issuer !== undefined) {
    try {
      const config = await discover(profile);
      if (config.serverMetadata().revocation_endpoint !== undefined) {
        await oidc.tokenRevocation(config, tokens.refreshToken, { token_type_hint: 'refresh_token' });
        revoked = true;
      }
    } catch {
      // Signing out locally must work without the issuer; the token then lives until it expires.
    }
  }
  return { removed: store.removeTokens(profileName), revoked };
}
