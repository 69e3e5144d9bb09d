// The typed client's types (src/client/openapi.ts) are what openapi-typescript makes of the document
// the bridge serves for the shipped config: a route, schema or answer changed without
// `npm run generate-client` fails here. The document is built in-process (no process, no socket).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { clientDocument } from '../../../scripts/client-document.js';
import { clientTypes, generatedPath } from '../../../scripts/client-types.js';

describe('the generated client', () => {
  it('matches the OpenAPI document the bridge serves for the shipped config', async () => {
    const document = await clientDocument();
    expect(Object.keys(document.paths as object)).toContain('/v1/jobs/policy-check');
    const expected = await clientTypes(document);
    // Not toBe: a long diff of two 1,700-line strings helps nobody; say what to run.
    if (readFileSync(generatedPath, 'utf8') !== expected)
      expect.fail(`${generatedPath} is stale: run \`npm run generate-client\` and commit the result`);
  });

  it('notices a document that differs', async () => {
    const document = await clientDocument();
    delete (document.paths as Record<string, unknown>)['/v1/whoami'];
    expect(await clientTypes(document)).not.toBe(readFileSync(generatedPath, 'utf8'));
  });
});
