// `npm run docs`: rewrites the generated regions of the docs from the code (generated-docs.ts)
// and says which pages changed. It refuses a config key without a description, since the reference
// would give the reader a bare name.
import { readFileSync, writeFileSync } from 'node:fs';
import { undescribedKeys } from './config-reference.js';
import { renderPages } from './generated-docs.js';

const undescribed = undescribedKeys();
if (undescribed.length > 0) {
  console.error(`describe these keys in src/config/schema.ts first:\n  ${undescribed.join('\n  ')}`);
  process.exit(1);
}
for (const [page, text] of renderPages()) {
  const changed = readFileSync(page, 'utf8') !== text;
  if (changed) writeFileSync(page, text);
  console.log(`${changed ? 'updated  ' : 'unchanged'} ${page}`);
}
