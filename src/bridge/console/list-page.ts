// What the console's list pages (jobs, deliveries) share: filters read from a GET form's query,
// kept in every link, a filter's select, and a pager driven by the API's page token.
import { html, type Html } from './html.js';

export interface ListQuery<Name extends string> {
  /** The filters the query set (trimmed, empty ones dropped), to pass on to the API and to links. */
  filters: Partial<Record<Name, string>>;
  /** The API's page token, when this is not the first page. */
  pageToken: string | undefined;
}

export function readListQuery<Name extends string>(query: unknown, names: readonly Name[]): ListQuery<Name> {
  const fields = (query ?? {}) as Record<string, unknown>;
  const filters: Partial<Record<Name, string>> = {};
  for (const name of names) {
    const value = fields[name];
    if (typeof value === 'string' && value.trim() !== '') filters[name] = value.trim();
  }
  return { filters, pageToken: typeof fields.pageToken === 'string' ? fields.pageToken : undefined };
}

/** A filter's drop-down: "any", then the options, the current one selected. */
export function filterSelect(
  filters: Record<string, string | undefined>,
  name: string,
  label: string,
  options: readonly string[],
): Html {
  return html`<label
    >${label}
    <select name="${name}">
      <option value="">any</option>
      ${options.map((o) => html`<option ${filters[name] === o ? html`selected` : ''}>${o}</option>`)}
    </select></label
  >`;
}

/** First page (when not on it) and Next page (when the API has one), both keeping the filters. */
export function pager(path: string, list: ListQuery<string>, nextPageToken: string | null): Html {
  const filters = list.filters as Record<string, string>;
  const next = new URLSearchParams({ ...filters, ...(nextPageToken === null ? {} : { pageToken: nextPageToken }) });
  return html`<nav aria-label="Pages" class="pager">
    ${list.pageToken === undefined ? '' : html`<a href="${path}?${new URLSearchParams(filters)}">First page</a>`}
    ${nextPageToken === null ? '' : html`<a href="${path}?${next}" rel="next">Next page</a>`}
  </nav>`;
}
