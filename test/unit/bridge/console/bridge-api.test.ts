// The console builds API paths from ids in a page's URL; a '.' or '..' segment would be resolved by
// the in-process request's URL parser into another API path (/ui/usage?job=.. read GET /v1/).
import { describe, expect, it } from 'vitest';
import { hasDotSegment } from '../../../../src/bridge/console/bridge-api.js';

describe('hasDotSegment', () => {
  it('finds plain and percent-encoded dot segments in the path, wherever they are', () => {
    for (const url of ['/v1/jobs/..', '/v1/jobs/.', '/v1/jobs/../rerun', '/v1/jobs/%2e%2e?wait=10', '/v1/jobs/.%2E/x'])
      expect(hasDotSegment(url), url).toBe(true);
  });

  it('passes ids with dots inside them, and dots in the query', () => {
    for (const url of [
      '/v1/jobs/policy-check.AbC_-1',
      '/v1/jobs/a..b',
      '/v1/jobs/x?wait=..',
      '/v1/deliveries/01JF3Z6W0Y8Q',
    ])
      expect(hasDotSegment(url), url).toBe(false);
  });
});
