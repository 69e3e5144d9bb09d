// Policy activities: Cedar evaluation. The engine is built once by the worker from the policy
// files in config/ and handed in through createPolicyActivities, so activities stay pure calls.
// Each evaluation is a `policy.evaluate` span (action, resource and decision; not the principal).
import * as cedar from '@cedar-policy/cedar-wasm/nodejs';
import { mayAskPolicyFor, type AccessRules } from '../src/core/access.js';
import { fail } from '../src/core/failures.js';
import type { Identity } from '../src/core/identity.js';
import { inSpan } from './tracing.js';

export interface EntityRef {
  type: string;
  id: string;
}

export interface PolicyQuery {
  principal?: EntityRef;
  action: EntityRef;
  resource: EntityRef;
  context?: Record<string, cedar.CedarValueJson>;
}

export interface PolicyDecision {
  decision: 'allow' | 'deny';
  /** Ids of the policies that decided: the permits for an allow, the forbids (if any) for a deny. */
  policies: string[];
  errors: string[];
  principal: EntityRef;
  evaluatedAt: string;
}

export interface PolicyEngine {
  /** Policy text by id: the `@id("...")` annotation where there is one, else `policyN`. */
  readonly policies: Record<string, string>;
  readonly entities: cedar.EntityJson[];
}

/** The Cedar entity type the caller becomes (its id is the caller's principal) when a query names none. */
export const callerEntityType = 'Gatehouse::User';
export const groupEntityType = 'Gatehouse::Group';

/**
 * Parses the policy text once, and with a schema validates the policies (strict mode) and the
 * entities against it: a policy or entity that does not fit is a start-up error, not a silent deny.
 */
export function createPolicyEngine(text: string, entities: cedar.EntityJson[] = [], schema?: string): PolicyEngine {
  const parts = cedar.policySetTextToParts(text);
  if (parts.type === 'failure') {
    throw new Error(`Cedar policies do not parse: ${parts.errors.map((e) => e.message).join('; ')}`);
  }
  if (parts.policy_templates.length > 0) throw new Error('Cedar templates are not supported in the policy file');
  // Audit answers name policies by their @id, so the ids must be there and unique.
  const policies: Record<string, string> = {};
  parts.policies.forEach((policy, index) => {
    const json = cedar.policyToJson(policy);
    const id = json.type === 'success' ? (json.json.annotations?.id ?? `policy${index}`) : `policy${index}`;
    if (id in policies) throw new Error(`Cedar policy id "${id}" is used twice`);
    policies[id] = policy;
  });
  if (schema !== undefined) {
    const validation = cedar.validate({
      schema,
      policies: { staticPolicies: policies },
      validationSettings: { mode: 'strict' },
    });
    if (validation.type === 'failure')
      throw new Error(`Cedar schema does not parse: ${validation.errors.map((e) => e.message).join('; ')}`);
    if (validation.validationErrors.length > 0) {
      throw new Error(
        `Cedar policies do not fit the schema: ${validation.validationErrors.map((e) => `${e.policyId}: ${e.error.message}`).join('; ')}`,
      );
    }
  }
  const checkedEntities = cedar.checkParseEntities({ entities, ...(schema === undefined ? {} : { schema }) });
  if (checkedEntities.type === 'failure') {
    throw new Error(`Cedar entities do not parse: ${checkedEntities.errors.map((e) => e.message).join('; ')}`);
  }
  return { policies, entities };
}

export function createPolicyActivities(engine: PolicyEngine, rules: AccessRules) {
  return {
    /** Evaluates one query; the caller (from the job's identity) is the principal unless one is named. */
    async evaluatePolicy(query: PolicyQuery, identity: Identity): Promise<PolicyDecision> {
      // Attributes from the query as sent: Cedar, not this, says whether it is well formed.
      const entity = (ref: EntityRef | undefined) => `${String(ref?.type)}::"${String(ref?.id)}"`;
      const attributes = {
        'gatehouse.policy.action': entity(query.action),
        'gatehouse.policy.resource': entity(query.resource),
      };
      return inSpan('policy.evaluate', { attributes }, async (span) => {
        const decision = evaluate(query, identity);
        span.setAttribute('gatehouse.policy.decision', decision.decision);
        return decision;
      });
    },
  };

  function evaluate(query: PolicyQuery, identity: Identity): PolicyDecision {
    const caller: EntityRef = { type: callerEntityType, id: identity.principal };
    if (!mayAskPolicyFor(identity, query.principal?.id, rules)) {
      throw fail('PolicyAccessDenied', 'only admins may ask about another principal');
    }
    const principal = query.principal ?? caller;
    const callerEntity: cedar.EntityJson = {
      uid: caller,
      attrs: { issuer: identity.issuer, ...(identity.email === undefined ? {} : { email: identity.email }) },
      parents: identity.groups.map((group) => ({ type: groupEntityType, id: group })),
    };
    const known = engine.entities.some((e) => sameEntity(e.uid, caller));
    const answer = cedar.isAuthorized({
      principal,
      action: query.action,
      resource: query.resource,
      context: query.context ?? {},
      policies: { staticPolicies: engine.policies },
      entities: known ? engine.entities : [...engine.entities, callerEntity],
    });
    if (answer.type === 'failure') {
      // The request itself is malformed (say, an entity type that cannot parse): retrying cannot help.
      throw fail('PolicyRequestInvalid', answer.errors.map((e) => e.message).join('; '));
    }
    return {
      decision: answer.response.decision,
      policies: answer.response.diagnostics.reason,
      errors: answer.response.diagnostics.errors.map((e) => `${e.policyId}: ${e.error.message}`),
      principal,
      evaluatedAt: new Date().toISOString(),
    };
  }
}

function sameEntity(uid: cedar.EntityUidJson, ref: EntityRef): boolean {
  const plain = '__entity' in uid ? uid.__entity : uid;
  return plain.type === ref.type && plain.id === ref.id;
}
