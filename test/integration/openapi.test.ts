// The served OpenAPI document: valid OpenAPI (checked by @apidevtools/swagger-parser, a standard
// validator) for every route table that ships or that the tests build (the callbacks test adds only
// a default callback URL to the fixture's, which the document does not show), with each route's input
// schema definitions in components; served to authenticated callers only, each seeing what it
// may use; the docs page public, the document it loads not.
import SwaggerParser from '@apidevtools/swagger-parser';
import type { FastifyInstance } from 'fastify';
import type { OpenAPIV3_1 } from 'openapi-types';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { buildApp } from '../../src/bridge/app.js';
import { loadConfig, type GatehouseConfig } from '../../src/config/load-config.js';
import { configScratch, minimalConfig } from '../helpers/config-files.js';
import { testLogger, useGatehouse } from '../helpers/gatehouse.js';

/** The issuer and the test config; each route table gets a bridge of its own below. */
const g = useGatehouse({ name: 'openapi', worker: false, bridge: false });
const apps: FastifyInstance[] = [];

afterAll(async () => {
  for (const app of apps) await app.close();
});

/** Every route table the project ships or its tests build, pointed at this file's issuer. */
function routeTables(): Record<string, GatehouseConfig> {
  const env = {
    TEMPORAL_ADDRESS: inject('temporalAddress'),
    GATEHOUSE_JWT_ISSUER: g.issuer.issuer,
    GATEHOUSE_JWT_AUDIENCE: g.issuer.audience,
  };
  const shipped = loadConfig({
    GATEHOUSE_CONFIG: 'config/gatehouse.yaml',
    GATEHOUSE_GITHUB_WEBHOOK_SECRET: 'a',
    GATEHOUSE_GITLAB_WEBHOOK_TOKEN: 'b',
    GATEHOUSE_GITEA_WEBHOOK_SECRET: 'c',
    GATEHOUSE_BITBUCKET_WEBHOOK_SECRET: 'd',
    ...env,
  });
  const fixture = g.config;
  const minimal = configScratch('gatehouse-openapi-').load(minimalConfig(), env);
  return {
    'config/gatehouse.yaml': shipped,
    'test/fixtures/gatehouse.test.yaml': fixture,
    'the minimal config of the config tests': minimal,
  };
}

async function app(config: GatehouseConfig): Promise<FastifyInstance> {
  const built = await buildApp(config, { logger: testLogger() });
  apps.push(built);
  return built;
}

async function documentAs(bridge: FastifyInstance, groups: string[], url = '/openapi.json') {
  const { headers } = await g.caller({ groups });
  const answer = await bridge.inject({ url, headers });
  expect(answer.statusCode, answer.body).toBe(200);
  return answer.json<OpenAPIV3_1.Document>();
}

describe('the OpenAPI document', () => {
  it.each(['config/gatehouse.yaml', 'test/fixtures/gatehouse.test.yaml', 'the minimal config of the config tests'])(
    'is valid OpenAPI for %s, for an admin and for an ordinary caller',
    async (name) => {
      const bridge = await app(routeTables()[name]!);
      for (const groups of [['gatehouse-admins'], []]) {
        const document = await documentAs(bridge, groups);
        // validate() dereferences in place: give it a copy.
        await expect(SwaggerParser.validate(structuredClone(document))).resolves.toBeDefined();
      }
    },
  );

  it("hoists a route schema's definitions into components, with the refs rewritten", async () => {
    const bridge = await app(routeTables()['test/fixtures/gatehouse.test.yaml']!);
    const document = await documentAs(bridge, ['gatehouse-admins']);
    const body = document.paths!['/v1/jobs/policy-check']!.post!.requestBody as OpenAPIV3_1.RequestBodyObject;
    const schema = body.content['application/json']!.schema as OpenAPIV3_1.SchemaObject;
    expect(schema).not.toHaveProperty('$defs');
    expect(schema.properties!.action).toEqual({ $ref: '#/components/schemas/start-policy-check.entity' });
    expect(document.components!.schemas!['start-policy-check.entity']).toMatchObject({
      required: ['type', 'id'],
    });
    // The route still validates with its own schema: a bad entity is a 400 naming the field.
    const { headers } = await g.caller();
    const answer = await bridge.inject({
      method: 'POST',
      url: '/v1/jobs/policy-check',
      headers: { ...headers, 'content-type': 'application/json' },
      payload: { action: { type: 'Gatehouse::Action' }, resource: { type: 'Gatehouse::Repository', id: 'a/b' } },
    });
    expect(answer.statusCode).toBe(400);
    expect(answer.json().code).toBe('GATEHOUSE_VALIDATION_FAILED');
  });

  it('is served to authenticated callers only, each seeing the operations it may use', async () => {
    const bridge = await app(routeTables()['test/fixtures/gatehouse.test.yaml']!);
    for (const url of ['/openapi.json', '/docs/json', '/docs/yaml']) {
      const answer = await bridge.inject({ url });
      expect(answer.statusCode, url).toBe(401);
      expect(answer.json().code, url).toBe('GATEHOUSE_UNAUTHENTICATED');
    }
    for (const url of ['/docs', '/docs/static/swagger-initializer.js'])
      expect((await bridge.inject({ url })).statusCode, url).toBeLessThan(400);

    const pathsOf = (document: OpenAPIV3_1.Document) => Object.keys(document.paths ?? {});
    const ordinary = await documentAs(bridge, []);
    expect(pathsOf(ordinary)).toEqual(
      expect.arrayContaining(['/healthz', '/v1/jobs/ci', '/v1/jobs/policy-check', '/v1/jobs', '/v1/jobs/{jobId}']),
    );
    // Routes that need a group, the admins' delivery log and the webhook paths (every hook's name).
    for (const hidden of [
      '/v1/jobs/git-event',
      '/v1/jobs/deploy-check',
      '/v1/webhooks/deliveries',
      '/v1/webhooks/github/ci',
    ])
      expect(pathsOf(ordinary), hidden).not.toContain(hidden);
    expect(JSON.stringify(ordinary)).not.toMatch(/v1\/webhooks|enterprise|git-event/);
    // Nothing refers to what was left out.
    expect(Object.keys(ordinary.components!.schemas ?? {})).toEqual(['start-policy-check.entity']);

    const deployer = await documentAs(bridge, ['deployers']);
    expect(pathsOf(deployer)).toContain('/v1/jobs/deploy-check');
    expect(pathsOf(deployer)).not.toContain('/v1/jobs/git-event');

    const admin = await documentAs(bridge, ['gatehouse-admins']);
    expect(pathsOf(admin)).toEqual(
      expect.arrayContaining(['/v1/jobs/git-event', '/v1/webhooks/deliveries', '/v1/webhooks/github/ci']),
    );
    // The docs page loads the same document as /openapi.json.
    expect(await documentAs(bridge, [], '/docs/json')).toEqual(ordinary);
  });
});
