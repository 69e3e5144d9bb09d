// Signing in from any terminal: the OAuth 2.0 device authorization grant (RFC 8628) through
// openid-client. The command shows a code and a URL, the person approves it in any browser (on
// this machine or another), and the command polls the issuer until it does.
import * as oidc from 'openid-client';
import { CliError, exitCodes } from './errors.js';
import { scopesFor } from './oidc-issuer.js';
import type { Profile } from './store.js';

export interface DevicePrompt {
  verificationUri: string;
  verificationUriComplete?: string;
  userCode: string;
  expiresIn: number;
}

export function offersDeviceGrant(config: oidc.Configuration): boolean {
  return config.serverMetadata().device_authorization_endpoint !== undefined;
}

/** The device grant from start to tokens; `prompt` tells the person where to go and what to type. */
export async function deviceLogin(
  config: oidc.Configuration,
  profile: Profile,
  prompt: (what: DevicePrompt) => void,
  signal: AbortSignal,
): Promise<oidc.TokenEndpointResponse & oidc.TokenEndpointResponseHelpers> {
  if (!offersDeviceGrant(config))
    throw new CliError(
      'GATEHOUSE_CLI_NO_DEVICE_GRANT',
      'The issuer does not offer device sign-in',
      `${profile.issuer} has no device_authorization_endpoint`,
      exitCodes.usage,
    );
  const started = await oidc.initiateDeviceAuthorization(config, { scope: scopesFor(profile) });
  prompt({
    verificationUri: started.verification_uri,
    ...(started.verification_uri_complete === undefined
      ? {}
      : { verificationUriComplete: started.verification_uri_complete }),
    userCode: started.user_code,
    expiresIn: started.expires_in,
  });
  // The signal is checked between polls: a timeout ends the sign-in within one interval.
  return oidc.pollDeviceAuthorizationGrant(config, started, undefined, { signal });
}
