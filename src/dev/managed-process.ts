// A child process of a test bed that can be started, stopped, killed and started again: its output
// appended to a log file, its start awaited until a readiness check passes, an exit during the
// start reported with the log's path. The cluster test bed runs every part through it.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';

export interface ManagedProcess {
  readonly name: string;
  readonly running: boolean;
  /** The process id while it runs. */
  readonly pid: number | undefined;
  /** Spawns it (when not running) and resolves once it is ready. */
  start(): Promise<void>;
  /** The stop signal (SIGTERM unless told), and wait for the exit (SIGKILL after the grace period). */
  stop(): Promise<void>;
  /** SIGKILL: no goodbye, as a crashed machine would do. */
  kill(): Promise<void>;
}

export interface ManagedProcessOptions {
  name: string;
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  logFile: string;
  /** Ready when this resolves true; called every 200 ms with the output so far. */
  ready: (output: string) => boolean | Promise<boolean>;
  readyTimeoutMs?: number;
  /** How long the stop signal may take before SIGKILL. */
  graceMs?: number;
  /** What `stop` sends: SIGTERM unless the program ignores it (Argo's do). */
  stopSignal?: NodeJS.Signals;
}

export function managedProcess(options: ManagedProcessOptions): ManagedProcess {
  let child: ChildProcess | undefined;
  const alive = () => child !== undefined && child.exitCode === null && child.signalCode === null;
  const ended = async (signal: NodeJS.Signals) => {
    if (!alive()) return;
    const gone = new Promise((done) => child!.once('exit', done));
    child!.kill(signal);
    const timer = setTimeout(() => child?.kill('SIGKILL'), options.graceMs ?? 30_000);
    await gone;
    clearTimeout(timer);
  };
  return {
    name: options.name,
    get running() {
      return alive();
    },
    get pid() {
      return alive() ? child!.pid : undefined;
    },
    async start() {
      if (alive()) return;
      const log = createWriteStream(options.logFile, { flags: 'a' });
      const started = spawn(options.command, options.args, {
        env: { ...process.env, ...options.env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      child = started;
      let output = '';
      let ready = false;
      started.stdout!.on('data', (data: Buffer) => {
        log.write(data);
        if (!ready) output += data.toString();
      });
      started.stderr!.pipe(log);
      const timeoutMs = options.readyTimeoutMs ?? 60_000;
      const deadline = Date.now() + timeoutMs;
      while (!ready) {
        if (started.exitCode !== null || started.signalCode !== null)
          throw new Error(
            `${options.name} exited during start (${started.exitCode ?? started.signalCode}); see ${options.logFile}`,
          );
        if (Date.now() > deadline)
          throw new Error(`${options.name} was not ready in ${timeoutMs / 1000} s; see ${options.logFile}`);
        ready = await Promise.resolve(options.ready(output)).catch(() => false);
        if (!ready) await new Promise((r) => setTimeout(r, 200));
      }
      output = '';
    },
    stop: () => ended(options.stopSignal ?? 'SIGTERM'),
    kill: () => ended('SIGKILL'),
  };
}

/** A readiness check: the URL answers 2xx within two seconds. */
export async function answersOk(url: string): Promise<boolean> {
  try {
    return (await fetch(url, { signal: AbortSignal.timeout(2_000) })).ok;
  } catch {
    return false;
  }
}
