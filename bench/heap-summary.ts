// Summarizes a V8 .heapsnapshot (the bridge writes one on SIGUSR2 under the bench): total self size
// and the constructors holding the most, the way DevTools' Summary view groups them (objects by
// constructor name, everything else by kind, such as "(string)" or "(closure)").
//   node --import tsx bench/heap-summary.ts file.heapsnapshot
// A snapshot of a big heap is larger than the longest string V8 allows, so the file is read as bytes
// and only its header and each string are handed to JSON.parse; the node array is scanned in place.
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

export interface HeapSummary {
  fileBytes: number;
  nodes: number;
  /** Sum of every node's self size: the heap as V8 sees it. */
  totalBytes: number;
  top: Array<{ name: string; selfBytes: number; count: number }>;
  /** The same among JavaScript objects only (by constructor name): what the program made. */
  topObjects: Array<{ name: string; selfBytes: number; count: number }>;
  /** Closures by function name: which callbacks are held, and how many of each. */
  topClosures: Array<{ name: string; selfBytes: number; count: number }>;
}

interface Meta {
  node_fields: string[];
  node_types: [string[], ...unknown[]];
}

const comma = 0x2c;
const bracketClose = 0x5d;
const quote = 0x22;
const backslash = 0x5c;

export function summarizeHeapSnapshot(file: string, topCount = 10): HeapSummary {
  const bytes = readFileSync(file);
  const nodesAt = bytes.indexOf('"nodes":[');
  const stringsAt = bytes.lastIndexOf('"strings":[');
  if (nodesAt < 0 || stringsAt < 0) throw new Error(`${file} is not a heap snapshot`);
  // The header: {"snapshot":{"meta":{...},...},  — everything before "nodes".
  const header = bytes.toString('utf8', 0, nodesAt).trim().replace(/,$/, '');
  const meta = (JSON.parse(`${header}}`) as { snapshot: { meta: Meta } }).snapshot.meta;
  const width = meta.node_fields.length;
  const [typeAt, nameAt, sizeAt] = ['type', 'name', 'self_size'].map((f) => meta.node_fields.indexOf(f));

  // Nodes: `width` integers each. Group by object name (resolved once the strings are read) or type.
  const byKey = new Map<number, { selfBytes: number; count: number }>(); // type * 2^32 + name, or type
  const closures = new Map<number, { selfBytes: number; count: number }>(); // by name
  const types = meta.node_types[0];
  const closureType = types.indexOf('closure');
  const row: number[] = [];
  let nodes = 0;
  let totalBytes = 0;
  let value = 0;
  for (let i = nodesAt + 9; i < bytes.length; i += 1) {
    const c = bytes[i]!;
    if (c === comma || c === bracketClose) {
      row.push(value);
      value = 0;
      if (row.length === width) {
        const type = row[typeAt!]!;
        const named = types[type] === 'object' || types[type] === 'native';
        const key = named ? type * 2 ** 32 + row[nameAt!]! : type;
        const group = byKey.get(key) ?? { selfBytes: 0, count: 0 };
        group.selfBytes += row[sizeAt!]!;
        group.count += 1;
        byKey.set(key, group);
        if (type === closureType) {
          const closure = closures.get(row[nameAt!]!) ?? { selfBytes: 0, count: 0 };
          closure.selfBytes += row[sizeAt!]!;
          closure.count += 1;
          closures.set(row[nameAt!]!, closure);
        }
        totalBytes += row[sizeAt!]!;
        nodes += 1;
        row.length = 0;
      }
      if (c === bracketClose) break;
    } else if (c >= 0x30 && c <= 0x39) {
      value = value * 10 + (c - 0x30);
    }
  }

  // Strings: JSON strings one after another; only the ones the groups name are decoded.
  const wanted = new Set([
    ...[...byKey.keys()].filter((k) => k >= 2 ** 32).map((k) => k % 2 ** 32),
    ...closures.keys(),
  ]);
  const strings = new Map<number, string>();
  let index = 0;
  for (let i = stringsAt + 11; i < bytes.length && bytes[i] !== bracketClose; i += 1) {
    if (bytes[i] !== quote) continue;
    let end = i + 1;
    while (end < bytes.length && bytes[end] !== quote) end += bytes[end] === backslash ? 2 : 1;
    if (wanted.has(index)) strings.set(index, JSON.parse(bytes.toString('utf8', i, end + 1)) as string);
    index += 1;
    i = end;
  }

  const groups = new Map<string, { selfBytes: number; count: number; object: boolean }>();
  for (const [key, group] of byKey) {
    const name = key >= 2 ** 32 ? (strings.get(key % 2 ** 32) ?? '?') : `(${types[key] ?? 'unknown'})`;
    const into = groups.get(name) ?? { selfBytes: 0, count: 0, object: types[Math.floor(key / 2 ** 32)] === 'object' };
    into.selfBytes += group.selfBytes;
    into.count += group.count;
    groups.set(name, into);
  }
  const largest = (entries: Array<[string, { selfBytes: number; count: number }]>) =>
    entries
      .sort((a, b) => b[1].selfBytes - a[1].selfBytes)
      .slice(0, topCount)
      .map(([name, { selfBytes, count }]) => ({ name, selfBytes, count }));
  return {
    fileBytes: bytes.length,
    nodes,
    totalBytes,
    top: largest([...groups]),
    topObjects: largest([...groups].filter(([, g]) => g.object)),
    topClosures: largest([...closures].map(([name, group]) => [strings.get(name) || '(anonymous)', group])),
  };
}

export function formatHeapSummary(summary: HeapSummary): string {
  const mb = (bytes: number) =>
    bytes < 1_048_576 ? `${(bytes / 1024).toFixed(0)} KB` : `${(bytes / 1_048_576).toFixed(1)} MB`;
  return [
    `heap ${mb(summary.totalBytes)} in ${summary.nodes} nodes (snapshot file ${mb(summary.fileBytes)}); top by self size:`,
    ...summary.top.map(
      (t) =>
        `  ${mb(t.selfBytes).padStart(9)}  ${String(t.count).padStart(8)}  ${t.name.slice(0, 80).replace(/\s+/g, ' ')}`,
    ),
    `objects by constructor: ${summary.topObjects.map((t) => `${t.name.slice(0, 40)} ${mb(t.selfBytes)} (${t.count})`).join(', ')}`,
    `closures by function: ${summary.topClosures.map((t) => `${t.name.slice(0, 40)} ${mb(t.selfBytes)} (${t.count})`).join(', ')}`,
  ].join('\n');
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  console.log(formatHeapSummary(summarizeHeapSnapshot(process.argv[2]!)));
}
