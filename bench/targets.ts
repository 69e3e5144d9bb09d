// A row of the bench's targets table: the figure (Gatehouse's, then its baseline's from the same
// run), the ratio (figure / baseline, or figure / limit for absolute targets), the need, and
// whether it is met (undefined: not measured, or a row for reference).
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
