// A child process of a test bed that can be started, stopped, killed and started again: its output
// appended to a log file, its start awaited until a readiness check passes, an exit during the
// start reported with the log's path; how each run ended, asked for or not, recorded and written as
// the log's last line. The cluster test bed runs every part through it.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, readFileSync } from 'node:fs';

/** How one run of a managed process ended, as its parent (this process) saw it. */
export interface ProcessEnd {
  name: string;
  pid: number;
  /** The exit code; null when a signal ended it. */
  code: number | null;
  signal: NodeJS.Signals | null;
  /**
   * The last signal stop() or kill() sent this run, the SIGKILL after the grace period included;
   * undefined when neither asked it to end (it exited by itself, or another process or the kernel ended it).
   */
  requested: NodeJS.Signals | undefined;
  /** When it ended (ISO 8601). */
  endedAt: string;
  ranMs: number;
  /**
   * The kernel's count of OOM kills on the whole machine (/proc/vmstat oom_kill) at the run's start
   * and end; undefined off Linux.
   */
  oomKills: { atStart: number; atEnd: number } | undefined;
}

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
  readonly logFile: string;
  /** How the current run ended; undefined while it runs (and before the first start). */
  readonly lastEnd: ProcessEnd | undefined;
  /** Calls the listener each time a run ends, whoever ended it. */
  onEnd(listener: (end: ProcessEnd) => void): void;
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
  let requested: NodeJS.Signals | undefined;
  let lastEnd: ProcessEnd | undefined;
  const endListeners: Array<(end: ProcessEnd) => void> = [];
  const alive = () => child !== undefined && child.exitCode === null && child.signalCode === null;
  const ended = async (signal: NodeJS.Signals) => {
    if (!alive()) return;
    // The SIGKILL after the grace period goes to the run it was set for, never to whichever run
    // `child` holds when the timer fires.
    const target = child!;
    const send = (sent: NodeJS.Signals) => {
      requested = sent;
      target.kill(sent);
    };
    const gone = new Promise((done) => target.once('exit', done));
    send(signal);
    const timer = setTimeout(() => send('SIGKILL'), options.graceMs ?? 30_000);
    await gone;
    clearTimeout(timer);
  };
  return {
    name: options.name,
    logFile: options.logFile,
    get running() {
      return alive();
    },
    get pid() {
      return alive() ? child!.pid : undefined;
    },
    get lastEnd() {
      return lastEnd;
    },
    onEnd(listener) {
      endListeners.push(listener);
    },
    async start() {
      if (alive()) return;
      requested = undefined;
      lastEnd = undefined;
      const startedAt = Date.now();
      const oomKillsAtStart = readOomKills();
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
      // Not ended by stderr's end: stdout may still be written to it. It ends on 'close', below.
      started.stderr!.pipe(log, { end: false });
      let end: ProcessEnd | undefined;
      started.once('exit', (code, signal) => {
        const oomKillsAtEnd = readOomKills();
        end = {
          name: options.name,
          pid: started.pid!,
          code,
          signal,
          requested,
          endedAt: new Date().toISOString(),
          ranMs: Date.now() - startedAt,
          oomKills:
            oomKillsAtStart === undefined || oomKillsAtEnd === undefined
              ? undefined
              : { atStart: oomKillsAtStart, atEnd: oomKillsAtEnd },
        };
        lastEnd = end;
        for (const listener of endListeners) listener(end);
      });
      // 'close' comes after 'exit' once stdout and stderr have closed: the end line follows the
      // process's last output. (A failed spawn closes without an exit, and has no end line.)
      started.once('close', () => {
        if (end !== undefined) log.write(`\n[managed-process] ${describeEnd(end)}\n`);
        log.end();
      });
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

/** One line for a log or an error: how the run ended, when, after how long, and whether we asked. */
export function describeEnd(end: ProcessEnd): string {
  const how = end.signal === null ? `exited with code ${end.code}` : `was ended by ${end.signal}`;
  const asked =
    end.requested === undefined
      ? 'neither stop() nor kill() asked it to end'
      : `stop() or kill() had sent ${end.requested}`;
  const oom =
    end.oomKills === undefined
      ? ''
      : `; kernel OOM kills on this machine meanwhile: ${end.oomKills.atEnd - end.oomKills.atStart}`;
  return `${end.name} (pid ${end.pid}) ${how} at ${end.endedAt} after ${(end.ranMs / 1000).toFixed(1)} s; ${asked}${oom}`;
}

/** The kernel's count of OOM kills since boot: a kill for memory leaves no other trace a parent can see. */
function readOomKills(): number | undefined {
  try {
    const count = /^oom_kill (\d+)$/m.exec(readFileSync('/proc/vmstat', 'utf8'))?.[1];
    return count === undefined ? undefined : Number(count);
  } catch {
    return undefined;
  }
}

/** A readiness check: the URL answers 2xx within two seconds. */
export async function answersOk(url: string): Promise<boolean> {
  try {
    return (await fetch(url, { signal: AbortSignal.timeout(2_000) })).ok;
  } catch {
    return false;
  }
}
