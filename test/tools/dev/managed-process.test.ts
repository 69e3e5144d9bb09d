// How a managed process's run ended, as src/dev/managed-process.ts records it: a SIGKILL sent by
// another process is told apart from a stop() we asked for, and each run's log ends with that
// record, after the process's last output even when stderr closes first. Real child processes,
// hence the tools project.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { managedProcess, type ManagedProcess, type ProcessEnd } from '../../../src/dev/managed-process.js';

const dir = mkdtempSync(join(tmpdir(), 'managed-process-'));
const started: ManagedProcess[] = [];

afterEach(async () => {
  for (const p of started.splice(0)) await p.stop();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function startShell(name: string, script: string): Promise<ManagedProcess> {
  const p = managedProcess({
    name,
    command: 'sh',
    args: ['-c', script],
    logFile: join(dir, `${name}.log`),
    ready: (output) => output.includes('ready'),
    graceMs: 5_000,
  });
  started.push(p);
  await p.start();
  return p;
}

const nextEnd = (p: ManagedProcess) => new Promise<ProcessEnd>((resolve) => p.onEnd(resolve));

/** The log's last line, once the end line is there ('close' comes after the end is recorded). */
async function lastLogLine(p: ManagedProcess): Promise<string> {
  return vi.waitFor(() => {
    const lines = readFileSync(p.logFile, 'utf8').trimEnd().split('\n');
    expect(lines.at(-1)).toContain('[managed-process]');
    return lines.at(-1)!;
  });
}

describe('managedProcess records how each run ended', () => {
  it('a SIGKILL from another process: by SIGKILL, not requested', async () => {
    const p = await startShell('killed', 'echo ready; exec sleep 60');
    const pid = p.pid!;
    const ended = nextEnd(p);
    execFileSync('kill', ['-KILL', String(pid)]);
    const end = await ended;
    expect(end).toMatchObject({ name: 'killed', pid, code: null, signal: 'SIGKILL', requested: undefined });
    expect(p.lastEnd).toBe(end);
    expect(p.running).toBe(false);
    const line = await lastLogLine(p);
    expect(line).toContain(`killed (pid ${pid}) was ended by SIGKILL`);
    expect(line).toContain('neither stop() nor kill() asked it to end');
  });

  it('stop(): by its stop signal, requested', async () => {
    const p = await startShell('stopped', 'echo ready; exec sleep 60');
    const pid = p.pid!;
    await p.stop();
    expect(p.lastEnd).toMatchObject({ pid, code: null, signal: 'SIGTERM', requested: 'SIGTERM' });
    expect(await lastLogLine(p)).toContain('stop() or kill() had sent SIGTERM');
  });

  it('an exit by itself: its code, not requested; output after stderr closed still logged, before the end line', async () => {
    const p = await startShell('exits', 'echo ready; exec 2>&-; sleep 0.3; echo after stderr closed; exit 3');
    const end = await nextEnd(p);
    expect(end).toMatchObject({ code: 3, signal: null, requested: undefined });
    await lastLogLine(p);
    const lines = readFileSync(p.logFile, 'utf8').trimEnd().split('\n');
    expect(lines.at(-3)).toBe('after stderr closed');
    expect(lines.at(-1)).toContain('exited with code 3');
  });

  it('a new start forgets the last run: lastEnd is undefined while the process runs', async () => {
    const p = await startShell('restarted', 'echo ready; exec sleep 60');
    await p.kill();
    expect(p.lastEnd).toMatchObject({ signal: 'SIGKILL', requested: 'SIGKILL' });
    await p.start();
    expect(p.lastEnd).toBeUndefined();
  });
});
