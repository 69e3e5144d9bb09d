// The `gatehouse` command: sign in once, then run and follow jobs from a terminal (docs/cli.md).
// commander parses; every action goes through the typed client (src/client). Whatever goes
// wrong ends as a problem on stderr (code, title, detail) and an exit code, never a stack.
import { Command, CommanderError } from 'commander';
import { adminCommands } from './admin-commands.js';
import { Context } from './context.js';
import { CliError, exitCodes } from './errors.js';
import { jobsCommands } from './jobs-commands.js';
import { deviceLogin, logout } from './login.js';
import { Output, type OutputStreams } from './output.js';
import { unwrap } from './session.js';
import { checkProfileName, type Profile } from './store.js';

function build(context: Context): Command {
  const program = new Command('gatehouse')
    .description('Run and follow Gatehouse jobs from a terminal')
    .option('-p, --profile <name>', 'the profile to use (default: GATEHOUSE_PROFILE, else the current one)')
    .option('--json', 'print JSON (reads), or one JSON event a line (follow)')
    .showHelpAfterError('(add --help for usage)')
    .configureOutput({
      writeOut: (text) => context.streams.stdout.write(text),
      writeErr: (text) => context.streams.stderr.write(text),
    })
    .exitOverride()
    .addHelpText(
      'after',
      `
Environment: GATEHOUSE_TOKEN (a token used as is, for CI), GATEHOUSE_URL and GATEHOUSE_CA (override
the profile), GATEHOUSE_PROFILE, XDG_CONFIG_HOME (where profiles live), NO_COLOR.

Examples:
  gatehouse profile set default --url https://gatehouse.example.com --ca ./edge-ca.pem \\
    --issuer https://idp.example.com --client-id gatehouse-cli
  gatehouse login
  gatehouse run ci --input ci.json --follow
  gatehouse jobs list --json`,
    );

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
    .description("Sign in with the profile's issuer (device authorization: open a URL, type a code)")
    .addHelpText('after', '\nExample:\n  gatehouse login --profile dev')
    .action(async (_options: unknown, command: Command) => {
      const out = context.output(command);
      const session = context.sessionFor(command);
      await deviceLogin(context.store, session.profileName, session.profile, (prompt) => {
        out.info(`To sign in, open ${prompt.verificationUriComplete ?? prompt.verificationUri}`);
        out.info(
          `and confirm the code ${out.paint(prompt.userCode, 'bold', context.streams.stderr)} (valid ${Math.round(prompt.expiresIn / 60)} min).`,
        );
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

  jobsCommands(program, context);
  adminCommands(program, context);
  return program;
}

/** Runs the command with these arguments (without node and the script); answers the exit code. */
export async function runCommand(argv: string[], streams: OutputStreams): Promise<number> {
  const context = new Context(streams);
  const program = build(context);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return context.exitCode;
  } catch (error) {
    if (error instanceof CommanderError)
      // Help and version end "with an error" in commander: exit 0; usage errors are already printed.
      return error.exitCode === 0 ? 0 : exitCodes.usage;
    const problem =
      error instanceof CliError
        ? error
        : new CliError(
            'GATEHOUSE_CLI_INTERNAL',
            'Unexpected error',
            (error as Error)?.message ?? String(error),
            exitCodes.unreachable,
          );
    new Output(streams, false).problem(problem);
    return problem.exitCode;
  } finally {
    await context.close();
  }
}
