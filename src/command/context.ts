// What every subcommand gets: the config store, the environment, where to write, how to open a
// browser, and a session for the chosen profile (made on first use, so `profile set` works before
// any profile exists).
import type { Command } from 'commander';
import { Output, type OutputStreams } from './output.js';
import { Session } from './session.js';
import { configDir, Store } from './store.js';

/** What the process gives the command beyond its streams; tests put their own browser here. */
export interface CommandHost {
  /** The package's version, for --version. */
  version?: string;
  /** Opens a URL in the person's browser (default: the system's, through the `open` package). */
  openUrl?: (url: string) => Promise<void>;
}

/** The system browser; loaded on first use, so other commands do not pay for it. */
async function openInSystemBrowser(url: string): Promise<void> {
  const { default: open } = await import('open');
  await open(url);
}

export class Context {
  readonly store: Store;
  readonly openUrl: (url: string) => Promise<void>;
  private session: Session | undefined;
  /** The exit code the command ends with once its action returns. */
  exitCode = 0;

  constructor(
    readonly streams: OutputStreams,
    readonly host: CommandHost = {},
  ) {
    this.store = new Store(configDir(streams.env));
    this.openUrl = host.openUrl ?? openInSystemBrowser;
  }

  get env(): NodeJS.ProcessEnv {
    return this.streams.env;
  }

  /** The global options as given to the program (commander keeps them on the root command). */
  globals(command: Command): { profile?: string; json?: boolean } {
    return command.optsWithGlobals<{ profile?: string; json?: boolean }>();
  }

  output(command: Command): Output {
    return new Output(this.streams, this.globals(command).json === true);
  }

  sessionFor(command: Command): Session {
    const profile = this.globals(command).profile;
    this.session ??= new Session({ store: this.store, env: this.env, ...(profile === undefined ? {} : { profile }) });
    return this.session;
  }

  async close(): Promise<void> {
    await this.session?.close();
  }
}
