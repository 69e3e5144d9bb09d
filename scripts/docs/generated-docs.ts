// The generated parts of the docs: which page holds which region, and what renders it. `npm run
// docs` writes them (generate-docs.ts); test/unit/docs/generated-docs.test.ts renders them in
// memory and fails while a page on disk differs, so they cannot drift from the code.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderEnvironment, renderKeys } from './config-reference.js';
import { renderErrorTable, renderFailureTable } from './error-tables.js';
import { replaceRegion } from './markdown.js';
import { renderMetrics } from './metric-table.js';

export const generatedRegions: ReadonlyArray<{ page: string; region: string; render: () => string }> = [
  { page: 'docs/configuration.md', region: 'environment', render: renderEnvironment },
  { page: 'docs/configuration.md', region: 'keys', render: renderKeys },
  { page: 'docs/api.md', region: 'errors', render: renderErrorTable },
  { page: 'docs/api.md', region: 'failures', render: renderFailureTable },
  { page: 'docs/observability.md', region: 'metrics', render: () => renderMetrics() },
];

/** Each page that has generated regions, as regenerating would leave it. */
export function renderPages(root = '.'): Map<string, string> {
  const pages = new Map<string, string>();
  for (const { page, region, render } of generatedRegions) {
    const text = pages.get(page) ?? readFileSync(join(root, page), 'utf8');
    pages.set(page, replaceRegion(text, region, render(), page));
  }
  return pages;
}
