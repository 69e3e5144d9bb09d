// The console's list pages: filters from a GET form, kept by the pager's links.
import { describe, expect, it } from 'vitest';
import { filterSelect, pager, readListQuery } from '../../../../src/bridge/console/list-page.js';

describe('readListQuery', () => {
  it('keeps the named filters, trimmed, drops empty and unknown ones, and reads the page token', () => {
    const list = readListQuery({ route: ' ci ', status: '', owner: ['a', 'b'], other: 'x', pageToken: 'tok' }, [
      'route',
      'status',
      'owner',
    ] as const);
    expect(list).toEqual({ filters: { route: 'ci' }, pageToken: 'tok' });
    expect(readListQuery(undefined, ['route'])).toEqual({ filters: {}, pageToken: undefined });
  });
});

describe('pager', () => {
  it('links the next page with the filters and the API token, and the first page once past it', () => {
    const first = String(pager('/ui/jobs', { filters: { route: 'ci' }, pageToken: undefined }, 'n1'));
    expect(first).toContain('href="/ui/jobs?route=ci&amp;pageToken=n1" rel="next"');
    expect(first).not.toContain('First page');
    const later = String(pager('/ui/jobs', { filters: { route: 'ci' }, pageToken: 'n1' }, null));
    expect(later).toContain('href="/ui/jobs?route=ci">First page');
    expect(later).not.toContain('Next page');
  });
});

describe('filterSelect', () => {
  it('offers "any" and the options, the current one selected, escaped', () => {
    const select = String(filterSelect({ status: 'FAILED' }, 'status', 'Status', ['RUNNING', 'FAILED', '<x>']));
    expect(select).toContain('<option value="">any</option>');
    expect(select).toContain('<option selected>FAILED</option>');
    expect(select).toContain('<option >RUNNING</option>');
    expect(select).toContain('&lt;x&gt;');
  });
});
