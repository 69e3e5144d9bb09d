// The run's record, bench/results/<time>.json: every measured run, each scenario's figures, the
// bridge's memory at each point, the heap summary, the targets, the machine and the notes. It is
// rewritten after each scenario, and says `"complete": true` once the run has ended. The lines the
// bench prints go through `say`; a note is printed and kept in the record.
import { mkdirSync, writeFileSync } from 'node:fs';
import type { HeapSummary } from './heap-summary.js';
import type { Measured } from './measure.js';
import type { TargetRow } from './targets.js';

export interface BenchRecord {
  complete: boolean;
  machine: Record<string, unknown>;
  runs: Measured[];
  scenarios: Record<string, unknown>;
  memory: {
    points: Record<string, number>;
    /** V8's heap at each point, from the bridge's metrics. */
    heap: Record<string, { used: number; total: number; external: number }>;
    sampledMax: number;
    sampledMaxAt: string;
    peak: number;
  };
  heap: HeapSummary | undefined;
  targets: TargetRow[];
  notes: string[];
}

export interface Report {
  readonly started: Date;
  readonly record: BenchRecord;
  readonly file: string;
  /** Writes the record as it stands. */
  save(): void;
  /** One line to stdout, written at once (stdout is synchronous for files, pipes and terminals). */
  say(line: string): void;
  /** A line printed and kept in the record's notes. */
  note(text: string): void;
}

export function openReport(started: Date): Report {
  const file = `bench/results/${started.toISOString().replaceAll(':', '-')}.json`;
  const record: BenchRecord = {
    complete: false,
    machine: {},
    runs: [],
    scenarios: {},
    memory: { points: {}, heap: {}, sampledMax: 0, sampledMaxAt: '', peak: 0 },
    heap: undefined,
    targets: [],
    notes: [],
  };
  const say = (line: string) => process.stdout.write(`${line}\n`);
  return {
    started,
    record,
    file,
    save: () => {
      mkdirSync('bench/results', { recursive: true });
      writeFileSync(file, `${JSON.stringify(record, null, 2)}\n`);
    },
    say,
    note: (text) => {
      record.notes.push(text);
      say(`  note: ${text}`);
    },
  };
}
