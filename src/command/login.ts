// Signing in, staying signed in, signing out. `login` uses the device grant where the issuer
// offers it (login-device.ts: works from any terminal, even over SSH) and otherwise, or with
// --browser, the loopback redirect with PKCE (login-loopback.ts). Either way the tokens are kept
// per profile (store.ts, mode 0600). An expired access token is refreshed with the refresh token
// before a call; a refresh the issuer refuses (revoked, expired session) removes the stored
// tokens and asks to sign in again.
import * as oidc from 'openid-client';
import { CliError, exitCodes } from './errors.js';
import { deviceLogin, offersDeviceGrant, type DevicePrompt } from './login-device.js';
import { loopbackLogin, type LoopbackOptions } from './login-loopback.js';
import { describeOidcError, discoverIssuer, toStoredTokens } from './oidc-issuer.js';
import type { Profile, Store, StoredTokens } from './store.js';

/** Refresh this long before the issuer's expiry, so a token does not expire on its way. */
const refreshMarginSeconds = 30;

export interface LoginOptions {
  /** The loopback redirect even when the issuer offers the device grant. */
  browser: boolean;
  /** How long to wait for the person to sign in, either way. */
  timeoutSeconds: number;
  devicePrompt(what: DevicePrompt): void;
  loopback: LoopbackOptions;
}

/** Signs the profile in with whichever grant fits, and stores the tokens. */
export async function login(
  store: Store,
  profileName: string,
  profile: Profile,
  options: LoginOptions,
): Promise<StoredTokens> {
  const config = await discoverIssuer(profile);
  const signal = AbortSignal.timeout(options.timeoutSeconds * 1000);
  let tokens: oidc.TokenEndpointResponse & oidc.TokenEndpointResponseHelpers;
  try {
    tokens =
      !options.browser && offersDeviceGrant(config)
        ? await deviceLogin(config, profile, options.devicePrompt, signal)
        : await loopbackLogin(config, profile, options.loopback, signal);
  } catch (error) {
    if (error instanceof CliError) throw error;
    if (signal.aborted) throw loginTimedOut(options.timeoutSeconds);
    throw new CliError('GATEHOUSE_CLI_LOGIN_FAILED', 'Sign-in failed', describeOidcError(error), exitCodes.signedOut);
  }
  const stored = toStoredTokens(tokens, profile);
  store.writeTokens(profileName, stored);
  return stored;
}

function loginTimedOut(seconds: number): CliError {
  return new CliError(
    'GATEHOUSE_CLI_LOGIN_TIMEOUT',
    'Sign-in timed out',
    `nobody signed in within ${seconds} s; run \`gatehouse login\` again`,
    exitCodes.signedOut,
  );
}

function signInAgain(profileName: string): string {
  return `run \`gatehouse login${profileName === 'default' ? '' : ` --profile ${profileName}`}\``;
}

/** The profile's tokens, refreshed first when the access token has expired (or is about to). */
export async function freshTokens(store: Store, profileName: string, profile: Profile): Promise<StoredTokens> {
  const tokens = store.readTokens(profileName);
  if (tokens === undefined)
    throw new CliError(
      'GATEHOUSE_CLI_SIGNED_OUT',
      'Not signed in',
      `${signInAgain(profileName)} (or set GATEHOUSE_TOKEN)`,
      exitCodes.signedOut,
    );
  const now = Math.floor(Date.now() / 1000);
  if (tokens.expiresAt === undefined || tokens.expiresAt - refreshMarginSeconds > now) return tokens;
  const again = `the session ended; ${signInAgain(profileName)}`;
  if (tokens.refreshToken === undefined)
    throw new CliError('GATEHOUSE_CLI_SIGNED_OUT', 'Signed out', again, exitCodes.signedOut);
  const config = await discoverIssuer(profile);
  let refreshed: oidc.TokenEndpointResponse & oidc.TokenEndpointResponseHelpers;
  try {
    refreshed = await oidc.refreshTokenGrant(config, tokens.refreshToken);
  } catch (error) {
    if (!(error instanceof oidc.ResponseBodyError))
      throw new CliError(
        'GATEHOUSE_CLI_ISSUER',
        'The issuer could not be used',
        describeOidcError(error),
        exitCodes.unreachable,
      );
    // The issuer refused the refresh token (revoked, expired): it is of no further use.
    store.removeTokens(profileName);
    throw new CliError(
      'GATEHOUSE_CLI_SIGNED_OUT',
      'Signed out',
      `${again} (${describeOidcError(error)})`,
      exitCodes.signedOut,
    );
  }
  const stored = toStoredTokens(refreshed, profile, tokens);
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
      const config = await discoverIssuer(profile);
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
