// The policy activity evaluated in real Cedar (cedar-wasm), with the shipped policies.
import { readFileSync } from 'node:fs';
import { ApplicationFailure } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { createPolicyActivities, createPolicyEngine } from '../../../activities/policy.js';
import type { Identity } from '../../../src/core/identity.js';

const schema = readFileSync('config/policies/gatehouse.cedarschema', 'utf8');
const engine = createPolicyEngine(
  readFileSync('config/policies/gatehouse.cedar', 'utf8'),
  JSON.parse(readFileSync('config/policies/entities.json', 'utf8')),
  schema,
);
const { evaluatePolicy } = createPolicyActivities(engine, { adminGroups: ['gatehouse-admins'] });
const maintainer: Identity = {
  method: 'jwt',
  principal: 'jwt:https://idp#ada',
  issuer: 'https://idp',
  subject: 'ada',
  groups: ['maintainers'],
  roles: [],
  scopes: [],
};
const outsider: Identity = { ...maintainer, principal: 'jwt:https://idp#eve', subject: 'eve', groups: [] };
const admin: Identity = { ...outsider, principal: 'jwt:https://idp#root', groups: ['gatehouse-admins'] };
const action = (id: string) => ({ type: 'Gatehouse::Action', id });
const repo = (id: string) => ({ type: 'Gatehouse::Repository', id });

describe('evaluatePolicy', () => {
  it("allows through group membership taken from the caller's identity, naming the deciding policy", async () => {
    const decision = await evaluatePolicy({ action: action('deploy'), resource: repo('acme/api') }, maintainer);
    expect(decision).toMatchObject({
      decision: 'allow',
      policies: ['maintainers-deploy'],
      principal: { type: 'Gatehouse::User', id: 'jwt:https://idp#ada' },
    });
  });

  it('denies by default, and a forbid wins over a permit', async () => {
    expect(await evaluatePolicy({ action: action('deploy'), resource: repo('acme/api') }, outsider)).toMatchObject({
      decision: 'deny',
      policies: [],
    });
    expect(
      await evaluatePolicy({ action: action('deploy'), resource: repo('acme/payments') }, maintainer),
    ).toMatchObject({ decision: 'deny', policies: ['deploy-freeze'] });
  });

  it('reads entity attributes from the entities file', async () => {
    expect((await evaluatePolicy({ action: action('read'), resource: repo('acme/website') }, outsider)).decision).toBe(
      'allow',
    );
    expect((await evaluatePolicy({ action: action('read'), resource: repo('acme/api') }, outsider)).decision).toBe(
      'deny',
    );
  });

  it('evaluates a named principal instead of the caller, for admins only', async () => {
    const webhookMaintainer = { type: 'Gatehouse::User', id: 'webhook:github:21031067' };
    const query = { principal: webhookMaintainer, action: action('run-ci'), resource: repo('acme/api') };
    expect(await evaluatePolicy(query, admin)).toMatchObject({
      decision: 'allow',
      principal: { id: 'webhook:github:21031067' },
    });
    await expect(evaluatePolicy(query, maintainer)).rejects.toMatchObject({
      type: 'PolicyAccessDenied',
      nonRetryable: true,
    });
  });

  it('grants nothing to a token whose subject spells an entity principal', async () => {
    // entities.json makes webhook:github:21031067 a maintainer; a jwt caller with that sub is not it.
    const lookalike: Identity = {
      ...outsider,
      principal: 'jwt:https://idp#webhook:github:21031067',
      subject: 'webhook:github:21031067',
    };
    expect(await evaluatePolicy({ action: action('run-ci'), resource: repo('acme/api') }, lookalike)).toMatchObject({
      decision: 'deny',
    });
  });

  it('fails non-retryably for a query Cedar cannot parse', async () => {
    const failure = await evaluatePolicy(
      { action: { type: 'not a type', id: 'x' }, resource: repo('r') },
      maintainer,
    ).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect((failure as ApplicationFailure).nonRetryable).toBe(true);
    expect((failure as ApplicationFailure).type).toBe('PolicyRequestInvalid');
  });
});

describe('createPolicyEngine', () => {
  it('validates policies and entities against the schema', () => {
    expect(() =>
      createPolicyEngine('@id("typo") permit(principal, action == Gatehouse::Action::"run-cj", resource);', [], schema),
    ).toThrow(/do not fit the schema/);
    expect(() =>
      createPolicyEngine(
        '@id("attr") permit(principal, action == Gatehouse::Action::"read", resource) when { resource.colour == "red" };',
        [],
        schema,
      ),
    ).toThrow(/do not fit the schema/);
    expect(() =>
      createPolicyEngine(
        'permit(principal, action, resource);',
        [{ uid: { type: 'Gatehouse::Repository', id: 'r' }, attrs: { public: 'yes' }, parents: [] }],
        schema,
      ),
    ).toThrow(/entities do not parse/);
  });

  it('refuses policies that do not parse, and duplicate @id annotations', () => {
    expect(() => createPolicyEngine('permit(principal, action')).toThrow(/do not parse/);
    expect(() =>
      createPolicyEngine('@id("a") permit(principal, action, resource); @id("a") forbid(principal, action, resource);'),
    ).toThrow(/used twice/);
  });
});
