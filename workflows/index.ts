// Every workflow the worker registers. The bridge checks route → workflowType against these names.
// The callback interceptor (callback-interceptor.ts) is no workflow: it is bundled as an interceptor.
export { billingUsage } from './billing-usage.js';
export { ciPipeline } from './ci-pipeline.js';
export { deliverCallback } from './deliver-callback.js';
export { gitEventPolicy } from './git-event-policy.js';
export { policyCheck } from './policy-check.js';
export { reconcileHook } from './reconcile-hook.js';
