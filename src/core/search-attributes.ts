// The Gatehouse search attributes. Registered on the dev server by the test harness and the dev
// stack, in docker-compose, and on a cluster by the operator (docs/production.md); "list my jobs"
// is a visibility query on GatehouseOwner.
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/** The owner's principal (src/core/principal.ts). */
export const ownerKey = defineSearchAttributeKey('GatehouseOwner', SearchAttributeType.KEYWORD);
export const routeKey = defineSearchAttributeKey('GatehouseRoute', SearchAttributeType.KEYWORD);
/** `api`, or the name of the Git provider whose webhook started the job. */
export const sourceKey = defineSearchAttributeKey('GatehouseSource', SearchAttributeType.KEYWORD);
/** Webhook jobs only: the provider's delivery id, so admins can find the job a delivery started. */
export const deliveryKey = defineSearchAttributeKey('GatehouseDelivery', SearchAttributeType.KEYWORD);
/** CI runs: the concurrency key, so a newer run can find and cancel the run it supersedes. */
export const refKey = defineSearchAttributeKey('GatehouseRef', SearchAttributeType.KEYWORD);
/** A job run again (POST /v1/jobs/{jobId}/rerun): the job it runs again, so that job's page finds it. */
export const rerunOfKey = defineSearchAttributeKey('GatehouseRerunOf', SearchAttributeType.KEYWORD);
/** Jobs whose input names a repository (`repository.fullName`: CI and Git events), for list filters. */
export const repositoryKey = defineSearchAttributeKey('GatehouseRepository', SearchAttributeType.KEYWORD);

export const searchAttributeKeys = [
  ownerKey,
  routeKey,
  sourceKey,
  deliveryKey,
  refKey,
  rerunOfKey,
  repositoryKey,
] as const;

/** `temporal server start-dev --search-attribute` arguments for the keys above. */
export const searchAttributeArgs: string[] = searchAttributeKeys.flatMap((key) => [
  '--search-attribute',
  `${key.name}=Keyword`,
]);
