// What every subcommand gets: the config store, the environment, where to write, and a session
// for the chosen profile (made on first use, so `profile set` works before any profile exists).
import type { Command } from 'commander';
import { Output, type OutputStreams } from './output.js';
import { Session } from './session.js';
import { configDir, Store } from './store.js';

export class Context {
  readonly store: Store;
  private session: Session | undefined;
  /** The exit code the command ends with once its action returns. */
  exitCode = 0;

  constructor(readonly streams: OutputStreams) {
    this.store = new Store(configDir(streams.env));
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
