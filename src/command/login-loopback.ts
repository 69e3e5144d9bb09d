// Signing in through the system browser: the authorization code grant with PKCE and a loopback
// redirect (RFC 8252), for issuers without the device grant (or `gatehouse login --browser`).
// The command listens on 127.0.0.1, opens the issuer's sign-in page, and takes the one redirect
// back. state, nonce and the PKCE verifier are fresh per sign-in (openid-client); a callback
// whose state is not this sign-in's is refused before any code is exchanged, so a forged or
// stale redirect can never sign the terminal in as someone else, and nothing is stored.
import * as oidc from 'openid-client';
import { CliError, exitCodes } from './errors.js';
import { listenForCallback, type Callback } from './loopback-callback.js';
import { describeOidcError, scopesFor } from './oidc-issuer.js';
import type { Profile } from './store.js';

export interface BrowserPrompt {
  /** The issuer's sign-in page, with this sign-in's state, nonce and PKCE challenge. */
  url: string;
  /** Whether a browser was opened on it (false with --no-open, or when none could be). */
  opened: boolean;
}

export interface LoopbackOptions {
  /** Opens a URL in the person's browser; undefined: do not try (--no-open). */
  openUrl: ((url: string) => Promise<void>) | undefined;
  prompt(what: BrowserPrompt): void;
}

export async function loopbackLogin(
  config: oidc.Configuration,
  profile: Profile,
  options: LoopbackOptions,
  signal: AbortSignal,
): Promise<oidc.TokenEndpointResponse & oidc.TokenEndpointResponseHelpers> {
  if (config.serverMetadata().authorization_endpoint === undefined)
    throw new CliError(
      'GATEHOUSE_CLI_NO_BROWSER_SIGN_IN',
      'The issuer offers no browser sign-in',
      `${profile.issuer} has no authorization_endpoint (and no device_authorization_endpoint)`,
      exitCodes.usage,
    );
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const nonce = oidc.randomNonce();
  const listener = await listenForCallback();
  try {
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: listener.redirectUri,
      scope: scopesFor(profile, 'openid'),
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      nonce,
    }).href;
    let opened = false;
    if (options.openUrl !== undefined)
      opened = await options.openUrl(url).then(
        () => true,
        () => false,
      );
    options.prompt({ url, opened });

    const callback = await listener.next(signal);
    return await exchange(config, callback, { verifier, state, nonce });
  } finally {
    await listener.close();
  }
}

/** Checks the redirect and trades its code for tokens; the browser's tab is told how it went. */
async function exchange(
  config: oidc.Configuration,
  callback: Callback,
  expected: { verifier: string; state: string; nonce: string },
): Promise<oidc.TokenEndpointResponse & oidc.TokenEndpointResponseHelpers> {
  const refuse = async (detail: string): Promise<never> => {
    await callback.answer(400, 'Sign-in failed', `${detail}. Return to the terminal.`);
    throw new CliError('GATEHOUSE_CLI_LOGIN_FAILED', 'Sign-in failed', detail, exitCodes.signedOut);
  };
  // openid-client checks state too; checking it here first keeps the code of a forged redirect
  // from ever reaching the token endpoint, and says plainly why.
  if (callback.url.searchParams.get('state') !== expected.state)
    return refuse('the sign-in that came back is not the one this command started (state mismatch): refused');
  let tokens: oidc.TokenEndpointResponse & oidc.TokenEndpointResponseHelpers;
  try {
    tokens = await oidc.authorizationCodeGrant(config, callback.url, {
      pkceCodeVerifier: expected.verifier,
      expectedState: expected.state,
      expectedNonce: expected.nonce,
      idTokenExpected: true,
    });
  } catch (error) {
    return refuse(describeOidcError(error));
  }
  await callback.answer(200, 'Signed in', 'The gatehouse command is signed in. You can close this tab.');
  return tokens;
}
