// npm run generate-client: writes src/client/openapi.ts, the typed client's types, from the
// OpenAPI document the bridge serves for the shipped config.
import { writeFileSync } from 'node:fs';
import { clientDocument } from './client-document.js';
import { clientTypes, generatedPath } from './client-types.js';

writeFileSync(generatedPath, await clientTypes(await clientDocument()));
console.log(`wrote ${generatedPath}`);
