// Every workflow the worker registers. The bridge checks route → workflowType against these names.
export { policyCheck } from './policy-check.js';
