// Profiles and signing in: `profile set|use|list`, `login`, `logout`, `whoami`.
import { type Command, Option } from 'commander';
import type { Context } from './context.js';
import { CliError } from './errors.js';
import { login, logout } from './login.js';
import { unwrap } from './session.js';
import { checkProfileName, type Profile } from './store.js';

export function accountCommands(program: Command, context: Context): void {
  const profile = program
    .command('profile')
    .description('Profiles: an edge URL, its CA file, and the issuer to sign in with');
  profile
    .command('set')
    .description('Create or change a profile, and make it the current one')
    .argument('<name>')
    .option('--url <url>', "the edge's URL")
    .option('--ca <file>', 'a PEM file of the CA that signed the edge certificate')
    .option('--issuer <url>', 'the OIDC issuer to sign in with')
    .option('--client-id <id>', "the command's client id at the issuer (default gatehouse-cli)")
    .option('--scope <scopes>', 'extra scopes to ask for at sign-in, space-separated')
    .addHelpText(
      'after',
      '\nExample:\n  gatehouse profile set dev --url https://127.0.0.1:8443 --ca .data/edge/tls/edge.crt --issuer http://127.0.0.1:9000',
    )
    .action((name: string, options: Partial<Profile>, command: Command) => {
      checkProfileName(name);
      const config = context.store.readConfig();
      const merged = { ...config.profiles[name], ...options };
      if (merged.url === undefined) throw new CliError('GATEHOUSE_CLI_USAGE', 'No URL', 'a new profile needs --url');
      for (const key of ['url', 'issuer'] as const) {
        const value = merged[key];
        if (value !== undefined && !/^https?:\/\//.test(value))
          throw new CliError('GATEHOUSE_CLI_USAGE', `Bad --${key}`, `${value} is not an http(s) URL`);
      }
      config.profiles[name] = merged as Profile;
      config.current = name;
      context.store.writeConfig(config);
      context.output(command).info(`profile ${name} saved in ${context.store.configPath}`);
    });
  profile
    .command('use')
    .description('Make a profile the current one')
    .argument('<name>')
    .action((name: string) => {
      const config = context.store.readConfig();
      if (config.profiles[name] === undefined) throw new CliError('GATEHOUSE_CLI_NO_PROFILE', 'No such profile', name);
      context.store.writeConfig({ ...config, current: name });
    });
  profile
    .command('list')
    .description('The profiles, the current one marked')
    .action((_options: unknown, command: Command) => {
      const out = context.output(command);
      const config = context.store.readConfig();
      if (out.json) return out.data(config);
      out.table(
        ['', 'NAME', 'URL', 'ISSUER'],
        Object.entries(config.profiles).map(([name, p]) => [
          name === config.current ? '*' : '',
          name,
          p.url,
          p.issuer ?? '',
        ]),
      );
    });

  program
    .command('login')
    .description("Sign in with the profile's issuer: a code to confirm in any browser, or this machine's browser")
    .option('--browser', "sign in through this machine's browser even when the issuer offers device sign-in")
    .option('--no-open', 'do not open a browser; print the URL to open instead')
    .addOption(
      new Option('--timeout <seconds>', 'how long to wait for the sign-in')
        .default(600)
        .argParser((value) => positiveSeconds(value)),
    )
    .addHelpText(
      'after',
      `
With the device grant (where the issuer offers it) the command prints a URL and a code to
confirm in any browser, on this machine or another. Otherwise (or with --browser) it listens on
127.0.0.1, opens the issuer's sign-in page in this machine's browser, and takes the redirect back
(RFC 8252, with PKCE).

Examples:
  gatehouse login --profile dev
  gatehouse login --browser
  gatehouse login --browser --no-open     # prints the URL; open it in a browser on this machine`,
    )
    .action(async (options: { browser?: boolean; open: boolean; timeout: number }, command: Command) => {
      const out = context.output(command);
      const session = context.sessionFor(command);
      await login(context.store, session.profileName, session.profile, {
        browser: options.browser === true,
        timeoutSeconds: options.timeout,
        devicePrompt(prompt) {
          out.info(`To sign in, open ${prompt.verificationUriComplete ?? prompt.verificationUri}`);
          out.info(
            `and confirm the code ${out.paint(prompt.userCode, 'bold', context.streams.stderr)} (valid ${Math.round(prompt.expiresIn / 60)} min).`,
          );
        },
        loopback: {
          openUrl: options.open ? context.openUrl : undefined,
          prompt({ url, opened }) {
            // Printed either way: the browser may have opened somewhere the person is not looking.
            out.info(
              opened
                ? 'Your browser has been opened to sign in. If it did not open, open this URL on this machine:'
                : 'To sign in, open this URL in a browser on this machine:',
            );
            out.info(`  ${url}`);
          },
        },
      });
      const me = unwrap(await session.client().GET('/v1/whoami'));
      out.info(`signed in as ${me.principal}`);
    });
  program
    .command('logout')
    .description("Forget the profile's tokens (and revoke the refresh token where the issuer allows)")
    .action(async (_options: unknown, command: Command) => {
      const session = context.sessionFor(command);
      const { removed, revoked } = await logout(context.store, session.profileName, session.profile);
      context
        .output(command)
        .info(
          removed
            ? `signed out of ${session.profileName}${revoked ? ' (refresh token revoked)' : ''}`
            : `${session.profileName}: not signed in`,
        );
    });
  program
    .command('whoami')
    .description('You, as Gatehouse sees you: principal, groups, roles, scopes')
    .addHelpText('after', '\nExamples:\n  gatehouse whoami\n  GATEHOUSE_TOKEN=$(cat token) gatehouse whoami --json')
    .action(async (_options: unknown, command: Command) => {
      const out = context.output(command);
      const me = unwrap(await context.sessionFor(command).client().GET('/v1/whoami'));
      if (out.json) return out.data(me);
      out.record([
        ['principal', me.principal],
        ['name', me.name],
        ['email', me.email],
        ['groups', me.groups.join(', ')],
        ['roles', me.roles.join(', ')],
        ['scopes', me.scopes.join(' ')],
        ['admin', String(me.admin)],
      ]);
    });
}

function positiveSeconds(value: string): number {
  const seconds = Number(value);
  if (!Number.isInteger(seconds) || seconds < 1)
    throw new CliError('GATEHOUSE_CLI_USAGE', 'Bad --timeout', `${value} is not a whole number of seconds`);
  return seconds;
}
