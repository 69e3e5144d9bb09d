// Prometheus metrics, one registry per app (no module-level singletons): request durations by
// route template, job starts by outcome, and the process's default metrics. Served on their own
// listener (src/bridge/http/metrics-server.ts), not by the public app.
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';

export interface GatehouseMetrics {
  registry: Registry;
  httpDuration: Histogram<'method' | 'route' | 'status'>;
  jobStarts: Counter<'route' | 'outcome'>;
  webhookDeliveries: Counter<'provider' | 'outcome'>;
}

declare module 'fastify' {
  interface FastifyInstance {
    metrics: GatehouseMetrics;
  }
}

async function metricsPlugin(app: FastifyInstance) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'gatehouse_' });
  const metrics: GatehouseMetrics = {
    registry,
    httpDuration: new Histogram({
      name: 'gatehouse_http_request_duration_seconds',
      help: 'HTTP requests by method, route template and status',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
    jobStarts: new Counter({
      name: 'gatehouse_job_starts_total',
      help: 'Job start requests by route and outcome (started, replayed, conflict)',
      labelNames: ['route', 'outcome'],
      registers: [registry],
    }),
    webhookDeliveries: new Counter({
      name: 'gatehouse_webhook_deliveries_total',
      help: 'Webhook deliveries by provider and outcome (accepted, duplicate, ignored, bad_signature, malformed, unavailable)',
      labelNames: ['provider', 'outcome'],
      registers: [registry],
    }),
  };
  app.decorate('metrics', metrics);

  app.addHook('onResponse', (request, reply, done) => {
    observeAnswer(metrics, request.method, request.routeOptions.url, reply.statusCode, reply.elapsedTime);
    done();
  });
}

/**
 * An answered request's duration, by its route's template: never the raw URL, which keeps label
 * cardinality bounded. Called by the hook above, and by a reply taken over from Fastify when it
 * answers (src/bridge/http/taken-over-reply.ts).
 */
export function observeAnswer(
  metrics: GatehouseMetrics,
  method: string,
  route: string | undefined,
  status: number,
  elapsedMs: number,
): void {
  metrics.httpDuration.observe({ method, route: route ?? 'unmatched', status: String(status) }, elapsedMs / 1000);
}

export default fp(metricsPlugin, { name: 'gatehouse-metrics' });
