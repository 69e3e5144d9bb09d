// A process's environment block stays in its memory for its whole life, and /proc/<pid>/environ
// shows it as it was at exec: `delete process.env[X]` only unlinks X from libc's list, so the
// value is still there for anything that may read that file (a step running as the worker's uid
// read its parent's "removed" secret back that way). Node 20 cannot exec itself with a smaller
// environment, so the worker overwrites the entries in place, through /proc/self/mem, the way
// setproctitle implementations reuse the same memory; it then reads /proc/self/environ again and
// refuses to go on if any of them is still there.
import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';

/** Removes `names` from process.env and zeroes their `NAME=value` bytes in the environment block. */
export function scrubEnvironment(names: readonly string[]): void {
  const wanted = new Set(names);
  for (const name of wanted) delete process.env[name];
  const { start, block } = environmentBlock();
  const spans = entries(block).filter((entry) => wanted.has(entry.name));
  if (spans.length > 0) {
    const mem = openSync('/proc/self/mem', 'r+');
    try {
      for (const span of spans) writeSync(mem, Buffer.alloc(span.length), 0, span.length, start + span.offset);
    } finally {
      closeSync(mem);
    }
  }
  const left = entries(environmentBlock().block).filter((entry) => wanted.has(entry.name) && entry.length > 0);
  if (left.length > 0)
    throw new Error(`the environment block still holds ${left.map((entry) => entry.name).join(', ')}`);
}

/** Where the block starts in memory (/proc/self/stat, field 50 env_start) and its bytes. */
function environmentBlock(): { start: number; block: Buffer } {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  // Fields after the command name, which is in parentheses and may itself hold spaces.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const start = Number(fields[50 - 3]);
  if (!Number.isSafeInteger(start) || start <= 0) throw new Error('cannot find the environment block');
  return { start, block: readFileSync('/proc/self/environ') };
}

/** Each `NAME=value` entry of the block with its offset and length (the NUL excluded). */
function entries(block: Buffer): Array<{ name: string; offset: number; length: number }> {
  const found: Array<{ name: string; offset: number; length: number }> = [];
  let offset = 0;
  while (offset < block.length) {
    const end = block.indexOf(0, offset);
    const stop = end === -1 ? block.length : end;
    const text = block.subarray(offset, stop).toString('latin1');
    const equals = text.indexOf('=');
    if (equals > 0) found.push({ name: text.slice(0, equals), offset, length: stop - offset });
    offset = stop + 1;
  }
  return found;
}
