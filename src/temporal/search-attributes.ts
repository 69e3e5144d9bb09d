// The Gatehouse search attributes (DESIGN.md §4). Registered on the dev server by the harness and
// the dev stack, and in docker-compose; "list my jobs" is a visibility query on GatehouseOwner.
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

export const ownerKey = defineSearchAttributeKey('GatehouseOwner', SearchAttributeType.KEYWORD);
export const routeKey = defineSearchAttributeKey('GatehouseRoute', SearchAttributeType.KEYWORD);
export const sourceKey = defineSearchAttributeKey('GatehouseSource', SearchAttributeType.KEYWORD);
/** Webhook jobs only: the provider's delivery id, so admins can find the job a delivery started. */
export const deliveryKey = defineSearchAttributeKey('GatehouseDelivery', SearchAttributeType.KEYWORD);

/** CI runs: `<repository>@<branch>`, so a newer push can find and cancel the run it supersedes. */
export const refKey = defineSearchAttributeKey('GatehouseRef', SearchAttributeType.KEYWORD);

/** `temporal server start-dev --search-attribute` arguments for the keys above. */
export const searchAttributeArgs: string[] = [ownerKey, routeKey, sourceKey, deliveryKey, refKey].flatMap((key) => [
  '--search-attribute', `${key.name}=Keyword`,
]);

export const jobSources = ['api', 'github', 'gitlab', 'gitea', 'bitbucket'] as const;
export type JobSource = (typeof jobSources)[number];
