// The `gatehouse` command: sign in once, then run and follow jobs from a terminal (docs/cli.md).
// commander parses; every action goes through the typed client (src/client). Whatever goes
// wrong ends as a problem on stderr (code, title, detail) and an exit code, never a stack.
import { Argument, Command, CommanderError } from 'commander';
import { accountCommands } from './account-commands.js';
import { adminCommands } from './admin-commands.js';
import { completionScript, shells, type Shell } from './completion-scripts.js';
import { completionTree } from './completion-tree.js';
import { Context, type CommandHost } from './context.js';
import { CliError, exitCodes } from './errors.js';
import { jobsCommands } from './jobs-commands.js';
import { Output, type OutputStreams } from './output.js';

/** The whole command tree; `runCommand` runs it, and completion and its tests read it. */
export function buildProgram(context: Context): Command {
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
  if (context.host.version !== undefined) program.version(context.host.version, '-V, --version');

  accountCommands(program, context);
  jobsCommands(program, context);
  adminCommands(program, context);
  program
    .command('completion')
    .description('Print the shell completion script for bash, zsh or fish')
    .addArgument(new Argument('<shell>').choices(shells))
    .addHelpText(
      'after',
      `
Examples:
  gatehouse completion bash > ~/.local/share/bash-completion/completions/gatehouse
  gatehouse completion zsh > "\${fpath[1]}/_gatehouse"
  gatehouse completion fish > ~/.config/fish/completions/gatehouse.fish`,
    )
    .action((shell: Shell) => {
      context.streams.stdout.write(completionScript(shell, completionTree(program)));
    });
  return program;
}

/** Runs the command with these arguments (without node and the script); answers the exit code. */
export async function runCommand(argv: string[], streams: OutputStreams, host: CommandHost = {}): Promise<number> {
  const context = new Context(streams, host);
  const program = buildProgram(context);
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
