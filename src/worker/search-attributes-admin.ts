// Registers the Gatehouse search attributes (all Keyword) on a namespace through Temporal's
// operator API, skipping those already there: what an operator does once per namespace on a
// self-hosted cluster (`npm run register-search-attributes`), and what the cluster test bed does.
// The dev server gets them from its command line instead; Temporal Cloud from `tcld`.
import type { Connection } from '@temporalio/client';
// @temporalio/proto is CommonJS whose named exports Node's ESM loader cannot detect: default import.
import protos from '@temporalio/proto';
import { searchAttributeKeys } from '../core/search-attributes.js';

/** Returns the names it added (empty when all were there). */
export async function registerSearchAttributes(connection: Connection, namespace: string): Promise<string[]> {
  const existing = (await connection.operatorService.listSearchAttributes({ namespace })).customAttributes ?? {};
  const missing = searchAttributeKeys.map((key) => key.name).filter((name) => !(name in existing));
  if (missing.length > 0)
    await connection.operatorService.addSearchAttributes({
      namespace,
      searchAttributes: Object.fromEntries(
        missing.map((name) => [name, protos.temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD]),
      ),
    });
  return missing;
}
