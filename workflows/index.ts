// Every workflow the worker registers. The bridge checks route → workflowType against these names.
export { gitEventPolicy } from './git-event-policy.js';
export { policyCheck } from './policy-check.js';
