// Every workflow type Gatehouse runs, with the activity groups it calls. The config check refuses
// a route whose workflowType is not a route workflow here; a worker polling a task queue registers only the
// workflows of the routes on that queue and only the activity groups they need (so a policy
// worker never holds the CI or status-API secrets). A test keeps this table and workflows/ in step.

export const activityGroups = ['policy', 'billing', 'ci', 'commitStatus', 'argo', 'reconcile', 'callback'] as const;
export type ActivityGroup = (typeof activityGroups)[number];

export const workflowCatalog = {
  policyCheck: ['policy'],
  gitEventPolicy: ['policy'],
  billingUsage: ['billing'],
  ciPipeline: ['ci', 'policy', 'commitStatus', 'argo', 'billing'],
  reconcileHook: ['reconcile'],
  deliverCallback: ['callback'],
} as const satisfies Record<string, readonly ActivityGroup[]>;

export type WorkflowType = keyof typeof workflowCatalog;

export const workflowTypes = Object.keys(workflowCatalog) as WorkflowType[];

/**
 * Gatehouse's own workflows, never a route's: its schedules start the reconciler
 * (webhooks.reconciler), and a job with a callback starts deliverCallback (src/core/callbacks.ts).
 */
export const systemWorkflowTypes = ['reconcileHook', 'deliverCallback'] as const satisfies WorkflowType[];

/** The workflow types a route may name. */
export const routeWorkflowTypes = workflowTypes.filter(
  (type) => !(systemWorkflowTypes as readonly string[]).includes(type),
);

export function isRouteWorkflowType(name: string): name is WorkflowType {
  return (routeWorkflowTypes as string[]).includes(name);
}
