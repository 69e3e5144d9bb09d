// Webhook intake routes. One route per configured hook: /v1/webhooks/{provider} for the hook named
// `default`, /v1/webhooks/{provider}/{hook} for the others. Bodies stay raw bytes here (their
// SHA-256 is kept for the memo); src/bridge/webhooks/intake.ts does the rest.
import { createHash } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { GatehouseConfig } from '../../config/load-config.js';
import { providerNames, providers } from '../../providers/registry.js';
import { GatehouseError } from '../errors.js';
import { ListJobsBody, ProblemBody } from '../jobs/job-schemas.js';
import { checkDeliveryHeaders, takeDelivery, type Hook } from './intake.js';
import { compileRules } from './match-rule.js';
import { WebhookAccepted, WebhookIgnored } from './webhook-schemas.js';

export async function webhookRoutes(app: FastifyInstance, opts: { config: GatehouseConfig }) {
  const { config } = opts;
  // This plugin is encapsulated: these parsers keep bodies as raw bytes for its routes only.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(
    ['application/json', 'application/x-www-form-urlencoded'],
    { parseAs: 'buffer' },
    (request, body, done) => {
      request.bodySha256 = createHash('sha256')
        .update(body as Buffer)
        .digest('hex');
      done(null, body);
    },
  );

  for (const name of providerNames) {
    const provider = providers[name];
    for (const [hook, hookConfig] of Object.entries(config.webhooks[name] ?? {})) {
      const secrets = config.webhookSecrets.get(`${name}/${hook}`);
      // Fail closed: a hook without a resolved secret gets no route at all (loadConfig refuses it too).
      if (secrets === undefined || secrets.secrets.length === 0) continue;
      const target: Hook = {
        provider: { ...provider, name },
        name: hook,
        config: hookConfig,
        rules: compileRules(hookConfig.rules),
        secrets,
        hosts: config,
      };
      const count = (outcome: string) => app.metrics.webhookDeliveries.inc({ provider: name, outcome });
      app.post(
        hook === 'default' ? `/v1/webhooks/${name}` : `/v1/webhooks/${name}/${hook}`,
        {
          bodyLimit: config.webhooks.maxBodyBytes,
          config: { auth: false },
          // Before the body is read: headers present, bounded and plausibly signed.
          onRequest: async (request) => {
            try {
              checkDeliveryHeaders(request, target);
            } catch (error) {
              count(outcomeOf(error));
              throw error;
            }
          },
          schema: {
            tags: ['webhooks'],
            summary: `${name} deliveries for the "${hook}" hook`,
            operationId: `webhook-${name}-${hook}`,
            response: { 200: WebhookIgnored, 202: WebhookAccepted, '4xx': ProblemBody, '5xx': ProblemBody },
          },
        },
        async (request, reply) => {
          try {
            const answer = await takeDelivery(app, request, target);
            count('ignored' in answer ? 'ignored' : answer.duplicate ? 'duplicate' : 'accepted');
            return reply.code('ignored' in answer ? 200 : 202).send(answer);
          } catch (error) {
            count(outcomeOf(error));
            throw error;
          }
        },
      );
    }
  }

  app.get(
    '/v1/webhooks/deliveries/:deliveryId',
    {
      schema: {
        tags: ['webhooks'],
        summary: 'Admins: the jobs a webhook delivery started',
        operationId: 'webhook-delivery',
        security: [{ bearerAuth: [] }],
        response: { 200: ListJobsBody, '4xx': ProblemBody, '5xx': ProblemBody },
      },
    },
    async (request) => app.jobs.ofDelivery(request.identity, (request.params as { deliveryId: string }).deliveryId),
  );
}

function outcomeOf(error: unknown): string {
  if (!(error instanceof GatehouseError)) return 'error';
  switch (error.code) {
    case 'GATEHOUSE_WEBHOOK_SIGNATURE_INVALID':
      return 'bad_signature';
    case 'GATEHOUSE_TEMPORAL_UNAVAILABLE':
      return 'unavailable';
    case 'GATEHOUSE_WEBHOOK_MALFORMED':
      return 'malformed';
    default:
      return error.code.replace(/^GATEHOUSE_/, '').toLowerCase();
  }
}
