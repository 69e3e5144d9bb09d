// The policy activity evaluated in real Cedar (cedar-wasm), with the shipped policies.
import { readFileSync } from 'node:fs';
import { ApplicationFailure } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { createPolicyActivities, createPolicyEngine } from '../../../activities/policy.js';
import type { Identity } from '../../../activities/types.js';

const schema = readFileSync('config/policies/gatehouse.cedarschema', 'utf8');
const engine = createPolicyEngine(
  readFileSync('config/policies/gatehouse.cedar', 'utf8'),
  JSON.parse(readFileSync('config/policies/entities.json', 'utf8')),
  schema,
);
const { evaluatePolicy } = createPolicyActivities(engine);
const maintainer: Identity = { method: 'jwt', issuer: 'i', subject: 'ada', groups: ['maintainers'], scopes: [] };
const outsider: Identity = { ...maintainer, subject: 'eve', groups: [] };
const action = (id: string) => ({ type: 'Gatehouse::Action', id });
const repo = (id: string) => ({ type: 'Gatehouse::Repository', id });

describe('evaluatePolicy', () => {
  it('allows through group membership taken from the caller\'s identity, naming the deciding policy', async () => {
    const decision = await evaluatePolicy({ action: action('deploy'), resource: repo('acme/api') }, maintainer);
    expect(decision).toMatchObject({ decision: 'allow', policies: ['maintainers-deploy'], principal: { type: 'Gatehouse::User', id: 'ada' } });
  });

  it('denies by default, and a forbid wins over a permit', async () => {
    expect(await evaluatePolicy({ action: action('deploy'), resource: repo('acme/api') }, outsider))
      .toMatchObject({ decision: 'deny', policies: [] });
    expect(await evaluatePolicy({ action: action('deploy'), resource: repo('acme/payments') }, maintainer))
      .toMatchObject({ decision: 'deny', policies: ['deploy-freeze'] });
  });

  it('reads entity attributes from the entities file', async () => {
    expect((await evaluatePolicy({ action: action('read'), resource: repo('acme/website') }, outsider)).decision).toBe('allow');
    expect((await evaluatePolicy({ action: action('read'), resource: repo('acme/api') }, outsider)).decision).toBe('deny');
  });

  it('evaluates a named principal instead of the caller', async () => {
    const decision = await evaluatePolicy({ principal: { type: 'Gatehouse::User', id: 'someone' }, action: action('deploy'), resource: repo('acme/api') }, maintainer);
    expect(decision).toMatchObject({ decision: 'deny', principal: { id: 'someone' } });
  });

  it('fails non-retryably for a query Cedar cannot parse', async () => {
    const failure = await evaluatePolicy({ action: { type: 'not a type', id: 'x' }, resource: repo('r') }, maintainer).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect((failure as ApplicationFailure).nonRetryable).toBe(true);
    expect((failure as ApplicationFailure).type).toBe('PolicyRequestInvalid');
  });
});

describe('createPolicyEngine', () => {
  it('validates policies and entities against the schema', () => {
    expect(() => createPolicyEngine('@id("typo") permit(principal, action == Gatehouse::Action::"run-cj", resource);', [], schema)).toThrow(/do not fit the schema/);
    expect(() => createPolicyEngine('@id("attr") permit(principal, action == Gatehouse::Action::"read", resource) when { resource.colour == "red" };', [], schema)).toThrow(/do not fit the schema/);
    expect(() => createPolicyEngine('permit(principal, action, resource);', [{ uid: { type: 'Gatehouse::Repository', id: 'r' }, attrs: { public: 'yes' }, parents: [] }], schema)).toThrow(/entities do not parse/);
  });

  it('refuses policies that do not parse, and duplicate @id annotations', () => {
    expect(() => createPolicyEngine('permit(principal, action')).toThrow(/do not parse/);
    expect(() => createPolicyEngine('@id("a") permit(principal, action, resource); @id("a") forbid(principal, action, resource);')).toThrow(/used twice/);
  });
});
