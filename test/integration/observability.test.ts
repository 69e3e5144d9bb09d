// What operators read: the OpenAPI document generated from the route table, Prometheus metrics
// that count job starts by outcome, and the request id echoed on every answer.
import { describe, expect, it } from 'vitest';
import { startMetricsServer } from '../../src/bridge/http/metrics-server.js';
import { useGatehouse } from '../helpers/gatehouse.js';
import { readWebsite } from '../helpers/queries.js';

const query = readWebsite;

const h = useGatehouse({ worker: false });

describe('OpenAPI document', () => {
  it('describes each configured route with its input schema and bearer auth, and hides internals', async () => {
    const { token } = await h.caller({ groups: ['deployers'] });
    const doc = (await h.app.inject({ url: '/openapi.json', headers: { authorization: `Bearer ${token}` } })).json();
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.components.securitySchemes.bearerAuth).toMatchObject({ type: 'http', scheme: 'bearer' });
    const start = doc.paths['/v1/jobs/policy-check'].post;
    expect(start.security).toEqual([{ bearerAuth: [] }]);
    expect(start.requestBody.content['application/json'].schema.required).toEqual(['action', 'resource']);
    expect(Object.keys(start.responses)).toEqual(expect.arrayContaining(['202', '4XX', '5XX']));
    expect(doc.paths['/v1/jobs/deploy-check']).toBeDefined();
    expect(doc.paths['/v1/jobs/{jobId}'].get.parameters.map((p: { name: string }) => p.name)).toEqual(
      expect.arrayContaining(['jobId', 'wait']),
    );
    expect(doc.paths['/metrics']).toBeUndefined();
    expect(doc.paths['/v1/jobs/{route}']).toBeUndefined();
  });
});

describe('metrics', () => {
  it('counts job starts by route and outcome, and request durations by route template', async () => {
    const { token } = await h.caller();
    const headers = { authorization: `Bearer ${token}`, 'idempotency-key': 'metrics-1' };
    await h.app.inject({ method: 'POST', url: '/v1/jobs/policy-check', payload: query, headers });
    await h.app.inject({ method: 'POST', url: '/v1/jobs/policy-check', payload: query, headers });
    await h.app.inject({
      method: 'POST',
      url: '/v1/jobs/policy-check',
      payload: { ...query, context: { x: 1 } },
      headers,
    });
    const metrics = await startMetricsServer(h.app.metrics.registry, { host: '127.0.0.1', port: 0 });
    const text = await (await fetch(`http://${metrics.address}/metrics`)).text();
    await metrics.close();
    expect(text).toMatch(/gatehouse_job_starts_total\{route="policy-check",outcome="started"\} 1/);
    expect(text).toMatch(/gatehouse_job_starts_total\{route="policy-check",outcome="replayed"\} 1/);
    expect(text).toMatch(/gatehouse_job_starts_total\{route="policy-check",outcome="conflict"\} 1/);
    expect(text).toMatch(
      /gatehouse_http_request_duration_seconds_count\{method="POST",route="\/v1\/jobs\/policy-check",status="202"\} 2/,
    );
    expect(text).not.toContain(token);
  });
});

describe('request ids', () => {
  it('echoes a sane X-Request-ID and puts the id in problem bodies', async () => {
    const answer = await h.app.inject({ url: '/v1/jobs', headers: { 'x-request-id': 'trace-abc-12345' } });
    expect(answer.headers['x-request-id']).toBe('trace-abc-12345');
    expect(answer.json().requestId).toBe('trace-abc-12345');
  });
});

describe('the public app', () => {
  it('does not serve metrics: they have a listener of their own', async () => {
    expect((await h.app.inject({ url: '/metrics' })).statusCode).toBe(404);
  });
});
