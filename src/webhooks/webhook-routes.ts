// Webhook intake (DESIGN.md §2, §5). One route per configured hook: /v1/webhooks/{provider} for
// the hook named `default`, /v1/webhooks/{provider}/{hook} for the others. The raw body is kept
// as bytes, the provider's signature is checked over exactly those bytes before anything is
// parsed, and the normalized event, not the raw body, starts the route's workflow. The workflow id
// comes from the hook and the delivery id, so a redelivery answers the same job.
import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { GitEvent, Identity } from '../../activities/types.js';
import { isAdmin } from '../auth/authorize.js';
import type { GatehouseConfig, HookSecrets } from '../config/load-config.js';
import { webhookProviders, type WebhookHookConfig, type WebhookProvider } from '../config/schema.js';
import { GatehouseError } from '../errors.js';
import { digest } from '../jobs/job-id.js';
import { jobLinks, ListJobsBody, ProblemBody } from '../jobs/job-schemas.js';
import { listJobs } from '../jobs/list-jobs.js';
import { startJob } from '../jobs/start-job.js';
import { matchRule } from './match-rule.js';
import { PayloadError, type ProviderAdapter } from './provider.js';
import { bitbucket } from './providers/bitbucket.js';
import { gitea } from './providers/gitea.js';
import { github } from './providers/github.js';
import { gitlab } from './providers/gitlab.js';
import { WebhookAccepted, WebhookIgnored } from './webhook-schemas.js';

const adapters: Record<WebhookProvider, ProviderAdapter> = { github, gitlab, gitea, bitbucket };

export async function webhookRoutes(app: FastifyInstance, opts: { config: GatehouseConfig }) {
  const { config } = opts;
  // This plugin is encapsulated: these parsers keep bodies as raw bytes for its routes only.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(['application/json', 'application/x-www-form-urlencoded'], { parseAs: 'buffer' }, (_request, body, done) => {
    done(null, body);
  });

  for (const provider of webhookProviders) {
    for (const [hook, hookConfig] of Object.entries(config.webhooks[provider] ?? {})) {
      const secrets = config.webhookSecrets.get(`${provider}/${hook}`);
      // Fail closed: a hook without a resolved secret gets no route at all (loadConfig refuses it too).
      if (secrets === undefined || secrets.secrets.length === 0) continue;
      app.post(hook === 'default' ? `/v1/webhooks/${provider}` : `/v1/webhooks/${provider}/${hook}`, {
        bodyLimit: config.webhooks.maxBodyBytes,
        config: { auth: false },
        schema: {
          tags: ['webhooks'], summary: `${provider} deliveries for the "${hook}" hook`, operationId: `webhook-${provider}-${hook}`,
          response: { 200: WebhookIgnored, 202: WebhookAccepted, '4xx': ProblemBody, '5xx': ProblemBody },
        },
      }, async (request, reply) => {
        const count = (outcome: string) => app.metrics.webhookDeliveries.inc({ provider, outcome });
        try {
          const answer = await intake(app, config, request, adapters[provider], hook, hookConfig, secrets);
          count('ignored' in answer ? 'ignored' : answer.duplicate ? 'duplicate' : 'accepted');
          return reply.code('ignored' in answer ? 200 : 202).send(answer);
        } catch (error) {
          count(outcomeOf(error));
          throw error;
        }
      });
    }
  }

  app.get('/v1/webhooks/deliveries/:deliveryId', {
    schema: {
      tags: ['webhooks'], summary: 'Admins: the jobs a webhook delivery started', operationId: 'webhook-delivery',
      security: [{ bearerAuth: [] }], response: { 200: ListJobsBody, '4xx': ProblemBody, '5xx': ProblemBody },
    },
  }, async (request) => {
    if (!isAdmin(request.identity, app.adminGroups)) throw new GatehouseError('GATEHOUSE_FORBIDDEN', 'Only admins may look up deliveries');
    const { deliveryId } = request.params as { deliveryId: string };
    return listJobs(app.temporal, { delivery: deliveryId.slice(0, 255), pageSize: 20 });
  });
}

type IntakeAnswer =
  | { ignored: string }
  | { jobId: string; runId: string; route: string; duplicate: boolean; links: ReturnType<typeof jobLinks> };

async function intake(
  app: FastifyInstance, config: GatehouseConfig, request: FastifyRequest, adapter: ProviderAdapter,
  hook: string, hookConfig: WebhookHookConfig, secrets: HookSecrets,
): Promise<IntakeAnswer> {
  const raw = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
  // The signature first, over the bytes as received: nothing unverified is parsed or believed.
  if (!(await adapter.verify(request.headers, raw, secrets))) {
    throw new GatehouseError('GATEHOUSE_WEBHOOK_SIGNATURE_INVALID', `The ${adapter.name} signature does not match any secret configured for this hook`);
  }
  const delivery = adapter.readDelivery(request.headers);
  if (delivery === undefined) throw new GatehouseError('GATEHOUSE_WEBHOOK_MALFORMED', 'The delivery lacks its event or delivery id header');
  let payload: unknown;
  try {
    payload = adapter.parse(raw, request.headers['content-type'] ?? '');
  } catch (error) {
    throw new GatehouseError('GATEHOUSE_WEBHOOK_MALFORMED', error instanceof PayloadError ? error.message : 'The payload is not valid JSON');
  }
  if (payload === null || typeof payload !== 'object') throw new GatehouseError('GATEHOUSE_WEBHOOK_MALFORMED', 'The payload is not a JSON object');
  const normalized = adapter.normalize(delivery.event, payload as Record<string, unknown>);
  if (normalized === 'ping') return { ignored: 'ping' };
  const event: GitEvent = { provider: adapter.name, hook, deliveryId: delivery.deliveryId, event: delivery.event, ...normalized };
  const match = matchRule(event, hookConfig.rules);
  if ('ignored' in match) return match;

  const routeConfig = config.routes[match.route]!;
  const identity: Identity = {
    method: 'webhook',
    issuer: `webhook:${adapter.name}/${hook}`,
    subject: `${adapter.name}:${event.sender.login}`,
    ...(event.sender.name === undefined ? {} : { name: event.sender.name }),
    groups: [],
    scopes: [],
    provider: adapter.name,
    hook,
  };
  // GitHub shares one delivery id across the hooks an event fires, so the provider's hook id is
  // part of the key; our hook name keeps two configured hooks apart.
  const jobId = `${adapter.name}.${digest([hook, delivery.providerHookId ?? '', delivery.deliveryId])}`;
  const userAgent = request.headers['user-agent'];
  const started = await startJob(app.temporal, {
    jobId, route: match.route, routeConfig, input: event, identity, source: adapter.name, deliveryId: delivery.deliveryId,
    request: {
      requestId: request.id,
      route: match.route,
      receivedAt: new Date().toISOString(),
      clientAddress: request.ip,
      ...(userAgent === undefined ? {} : { userAgent: userAgent.slice(0, 512) }),
      idempotencyKey: delivery.deliveryId,
      bodySha256: createHash('sha256').update(raw).digest('hex'),
    },
  });
  return { jobId, runId: started.runId, route: match.route, duplicate: started.replayed, links: jobLinks(jobId) };
}

function outcomeOf(error: unknown): string {
  if (!(error instanceof GatehouseError)) return 'error';
  switch (error.code) {
    case 'GATEHOUSE_WEBHOOK_SIGNATURE_INVALID': return 'bad_signature';
    case 'GATEHOUSE_TEMPORAL_UNAVAILABLE': return 'unavailable';
    case 'GATEHOUSE_WEBHOOK_MALFORMED': return 'malformed';
    default: return error.code.replace(/^GATEHOUSE_/, '').toLowerCase();
  }
}
