// Markdown helpers for the generated parts of the docs: table cells that render as written, and
// the marked regions a generator rewrites inside a hand-written page.

/**
 * A table cell: `|` is escaped, and outside code spans `<` and `*` are too, so a placeholder such as
 * <prefix> stays visible (an HTML renderer would take it for a tag) and a glob is not emphasis.
 */
export function cell(text: string): string {
  return text
    .split(/(`[^`]*`)/)
    .map((part, index) => (index % 2 === 1 ? part : part.replaceAll('<', '&lt;').replaceAll('*', '\\*')))
    .join('')
    .replaceAll('|', '\\|')
    .replaceAll('\n', ' ');
}

/** A code span, for values that are shown as written. */
export const code = (text: string): string => `\`${text}\``;

export function table(header: string[], rows: string[][]): string {
  return [
    `| ${header.join(' | ')} |`,
    `|${header.map(() => '---').join('|')}|`,
    ...rows.map((row) => `| ${row.join(' | ')} |`),
  ].join('\n');
}

const begin = (name: string) => `<!-- BEGIN GENERATED ${name}: npm run docs writes this part; edit its source -->`;
const end = (name: string) => `<!-- END GENERATED ${name} -->`;

/**
 * Replaces what lies between a region's markers with `content`. A page that lacks the markers is
 * an error rather than a silent no-op, so a region cannot be dropped from its page unnoticed.
 */
export function replaceRegion(page: string, name: string, content: string, where: string): string {
  const start = page.indexOf(begin(name));
  const stop = page.indexOf(end(name));
  if (start === -1 || stop === -1 || stop < start)
    throw new Error(`${where} has no region ${name}: put\n${begin(name)}\n${end(name)}\nwhere it belongs`);
  return `${page.slice(0, start)}${begin(name)}\n${content.trim()}\n${page.slice(stop)}`;
}
