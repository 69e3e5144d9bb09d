// What the bench reads about other processes from /proc (Linux only): CPU time, resident memory,
// open descriptors, the open-file limit and a process's children (HAProxy's workers).
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/** Clock ticks per second of utime/stime in /proc/<pid>/stat (USER_HZ, 100 on Linux). */
export const clockTicks = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;

/** utime + stime of a process, all threads, in milliseconds; NaN when it has gone. */
export function cpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces; count from the ')' that ends it. Field 3 is
    // index 0 here, so utime (field 14) and stime (field 15) are indexes 11 and 12.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / clockTicks;
  } catch {
    return Number.NaN;
  }
}

/** Summed CPU time of several processes, in milliseconds. */
export function cpuMsOf(pids: readonly number[]): number {
  return pids.reduce((sum, pid) => sum + cpuMs(pid), 0);
}

function statusField(pid: number, field: string): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    return Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? Number.NaN) * 1024;
  } catch {
    return Number.NaN;
  }
}

/** Resident set size in bytes (VmRSS). */
export const rssBytes = (pid: number) => statusField(pid, 'VmRSS');
/** The highest resident set size the process has had (VmHWM), in bytes. */
export const peakRssBytes = (pid: number) => statusField(pid, 'VmHWM');

export function openFds(pid: number): number {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return Number.NaN;
  }
}

/** The soft and hard open-file limits of a process. */
export function fileLimit(pid: number | 'self'): { soft: number; hard: number } {
  const limits = readFileSync(`/proc/${pid}/limits`, 'utf8');
  const match = /Max open files\s+(\S+)\s+(\S+)/.exec(limits);
  const value = (v: string | undefined) => (v === undefined || v === 'unlimited' ? Infinity : Number(v));
  return { soft: value(match?.[1]), hard: value(match?.[2]) };
}

/** Raises this process's soft open-file limit to `wanted` (or its hard limit); returns the soft limit now. */
export function raiseOwnFileLimit(wanted: number): number {
  const { soft, hard } = fileLimit('self');
  if (soft >= wanted) return soft;
  for (const limit of [`${wanted}:${wanted}`, `${Math.min(wanted, hard)}:${hard}`]) {
    try {
      execFileSync('prlimit', ['--pid', String(process.pid), `--nofile=${limit}`], { stdio: 'ignore' });
      break;
    } catch {
      // not allowed to raise the hard limit (no CAP_SYS_RESOURCE): try the soft one up to the hard
    }
  }
  return fileLimit('self').soft;
}

/** The direct children of a process (HAProxy's master spawns its workers). */
export function childPids(pid: number): number[] {
  const children = new Set<number>();
  try {
    for (const task of readdirSync(`/proc/${pid}/task`)) {
      const list = readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').trim();
      for (const child of list.split(/\s+/).filter(Boolean)) children.add(Number(child));
    }
  } catch {
    // gone, or no children file (kernels without CONFIG_PROC_CHILDREN): ask pgrep
    try {
      for (const child of execFileSync('pgrep', ['-P', String(pid)])
        .toString()
        .split('\n')
        .filter(Boolean)) {
        children.add(Number(child));
      }
    } catch {
      // no children
    }
  }
  return [...children];
}
