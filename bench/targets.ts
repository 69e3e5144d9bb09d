// The bench's targets table. A row: the figure (Gatehouse's, then its baseline's from the same
// run), the ratio (figure / baseline, or figure / limit for absolute targets), the need, and
// whether it is met (undefined: not measured, or a row for reference). Each scenario gives its
// rows (bench/scenarios/); the driver puts them in one table and prints it with formatTargets.
export interface TargetRow {
  target: string;
  figure: string;
  ratio: number;
  need: string;
  met: boolean | undefined;
  note?: string;
}

/** A row with a target: met when `ok(ratio)`. */
export function targetRow(
  target: string,
  figure: string,
  ratio: number,
  need: string,
  ok: (ratio: number) => boolean,
  note?: string,
): TargetRow {
  return {
    target,
    figure,
    ratio,
    need,
    met: Number.isFinite(ratio) ? ok(ratio) : undefined,
    ...(note === undefined ? {} : { note }),
  };
}

/** A row shown for context, with no target of its own. */
export function referenceRow(target: string, figure: string, ratio: number, note?: string): TargetRow {
  return { target, figure, ratio, need: '(for reference)', met: undefined, ...(note === undefined ? {} : { note }) };
}

export const mb = (bytes: number) => (Number.isFinite(bytes) ? `${(bytes / 1024 / 1024).toFixed(1)} MB` : 'n/a');
export const ms = (value: number, digits = 2) => (Number.isFinite(value) ? `${value.toFixed(digits)} ms` : 'n/a');
export const signedMb = (bytes: number) =>
  Number.isFinite(bytes) ? `${bytes < 0 ? '-' : '+'}${mb(Math.abs(bytes))}` : 'n/a';

/** The table as printed: a heading, then one aligned line per row with `met`, `NOT MET` or `not measured`. */
export function formatTargets(rows: TargetRow[]): string[] {
  const widths = [
    Math.max(...rows.map((x) => x.target.length)),
    Math.max(...rows.map((x) => x.figure.length)),
    7,
    Math.max(...rows.map((x) => x.need.length)),
  ];
  return [
    '\nTargets (CPU per call: all rounds summed; speed: median round)',
    ...rows.map((x) => {
      const result = x.met === undefined ? (x.need.startsWith('(') ? '' : 'not measured') : x.met ? 'met' : 'NOT MET';
      return `${x.target.padEnd(widths[0]!)}  ${x.figure.padEnd(widths[1]!)}  ${(Number.isFinite(x.ratio) ? `${x.ratio.toFixed(2)}x` : 'n/a').padStart(widths[2]!)}  ${x.need.padEnd(widths[3]!)}  ${result}${x.note === undefined ? '' : `  (${x.note})`}`;
    }),
  ];
}
