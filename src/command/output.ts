// How the command writes: JSON with --json, aligned columns on a terminal, tab-separated plain
// lines when stdout is a pipe or a file (for grep, cut and awk), and colour only on a terminal
// and never with NO_COLOR (https://no-color.org).
import { styleText } from 'node:util';
import type { CliError } from './errors.js';

export interface OutputStreams {
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  env: NodeJS.ProcessEnv;
}

type Colour = 'green' | 'red' | 'yellow' | 'dim' | 'bold';

export class Output {
  constructor(
    readonly streams: OutputStreams,
    readonly json: boolean,
  ) {}

  get tty(): boolean {
    return this.streams.stdout.isTTY === true;
  }

  private colourOn(stream: { isTTY?: boolean }): boolean {
    const noColor = this.streams.env.NO_COLOR;
    return stream.isTTY === true && (noColor === undefined || noColor === '');
  }

  paint(text: string, colour: Colour, stream = this.streams.stdout): string {
    return this.colourOn(stream) ? styleText(colour, text) : text;
  }

  line(text = ''): void {
    this.streams.stdout.write(`${text}\n`);
  }

  info(text: string): void {
    this.streams.stderr.write(`${text}\n`);
  }

  data(value: unknown): void {
    this.line(JSON.stringify(value, null, this.tty ? 2 : undefined));
  }

  /** Rows under a header: aligned on a terminal, tab-separated (no header) otherwise. */
  table(header: string[], rows: string[][]): void {
    if (!this.tty) {
      for (const row of rows) this.line(row.join('\t'));
      return;
    }
    const widths = header.map((title, i) => Math.max(title.length, ...rows.map((row) => (row[i] ?? '').length)));
    const format = (row: string[]) =>
      row
        .map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!)))
        .join('  ')
        .trimEnd();
    this.line(this.paint(format(header), 'bold'));
    for (const row of rows) this.line(format(row));
    if (rows.length === 0) this.line(this.paint('(none)', 'dim'));
  }

  /** Key: value lines for one record. */
  record(fields: Array<[string, string | undefined]>): void {
    const shown = fields.filter((field): field is [string, string] => field[1] !== undefined);
    const width = Math.max(...shown.map(([key]) => key.length));
    for (const [key, value] of shown)
      this.line(`${this.tty ? key.padEnd(width) : key}${this.tty ? '  ' : '\t'}${value}`);
  }

  statusText(status: string): string {
    const colour: Colour =
      status === 'COMPLETED' || status === 'accepted'
        ? 'green'
        : status === 'RUNNING' || status === 'CANCELED'
          ? 'yellow'
          : 'red';
    return this.paint(status, colour);
  }

  /** The problem on stderr: code, title, detail, and the request id to quote to an operator. */
  problem(error: CliError): void {
    const { requestId } = error;
    const stderr = this.streams.stderr;
    const lines = [
      `${this.paint('error', 'red', stderr)}: ${error.title} (${error.code}${error.status === undefined ? '' : `, HTTP ${error.status}`})`,
      `  ${error.detail}`,
      ...(requestId === undefined ? [] : [`  request id: ${requestId}`]),
    ];
    stderr.write(`${lines.join('\n')}\n`);
  }
}
