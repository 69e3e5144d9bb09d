// One webhook delivery, from raw bytes to a job: the provider's signature is checked over exactly
// the bytes received before anything is parsed or believed; the payload is normalized (the raw
// body never reaches Temporal); the hook's rules pick the route; the sender becomes a principal
// built from its immutable account id; the job service starts the job, keyed by the delivery.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { GitEvent } from '../../core/git-event.js';
import type { Identity } from '../../core/identity.js';
import { webhookPrincipal } from '../../core/principal.js';
import type { WebhookHookConfig } from '../../config/schema.js';
import { PayloadError, type HookSecrets } from '../../providers/provider.js';
import type { Provider } from '../../providers/provider.js';
import type { ProviderName } from '../../providers/registry.js';
import { GatehouseError } from '../errors.js';
import { jobLinks } from '../jobs/job-schemas.js';
import { matchRule } from './match-rule.js';

export interface Hook {
  provider: Provider & { name: ProviderName };
  name: string;
  config: WebhookHookConfig;
  secrets: HookSecrets;
}

export type IntakeAnswer =
  | { ignored: string }
  | { jobId: string; runId: string; route: string; duplicate: boolean; links: ReturnType<typeof jobLinks> };

const malformed = (detail: string) => new GatehouseError('GATEHOUSE_WEBHOOK_MALFORMED', detail);

export async function takeDelivery(app: FastifyInstance, request: FastifyRequest, hook: Hook): Promise<IntakeAnswer> {
  const { webhook } = hook.provider;
  const raw = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
  if (!(await webhook.verify(request.headers, raw, hook.secrets))) {
    throw new GatehouseError(
      'GATEHOUSE_WEBHOOK_SIGNATURE_INVALID',
      `The ${hook.provider.name} signature does not match any secret configured for this hook`,
    );
  }
  const delivery = webhook.readDelivery(request.headers);
  if (delivery === undefined) throw malformed('The delivery lacks its event or delivery id header');
  let payload: unknown;
  try {
    payload = webhook.parse(raw, request.headers['content-type'] ?? '');
  } catch (error) {
    throw malformed(error instanceof PayloadError ? error.message : 'The payload is not valid JSON');
  }
  if (payload === null || typeof payload !== 'object') throw malformed('The payload is not a JSON object');
  const normalized = webhook.normalize(delivery.event, payload as Record<string, unknown>);
  if (normalized === 'ping') return { ignored: 'ping' };
  const event: GitEvent = {
    provider: hook.provider.name,
    hook: hook.name,
    deliveryId: delivery.deliveryId,
    event: delivery.event,
    ...normalized,
  };
  const match = matchRule(event, hook.config.rules);
  if ('ignored' in match) return match;

  const started = await app.jobs.start(request, {
    route: match.route,
    input: event,
    identity: senderIdentity(event, hook),
    key: {
      kind: 'delivery',
      provider: hook.provider.name,
      hook: hook.name,
      deliveryId: delivery.deliveryId,
      ...(delivery.providerHookId === undefined ? {} : { providerHookId: delivery.providerHookId }),
    },
    source: hook.provider.name,
    deliveryId: delivery.deliveryId,
  });
  return {
    jobId: started.jobId,
    runId: started.runId,
    route: started.route,
    duplicate: started.replayed,
    links: jobLinks(started.jobId),
  };
}

/** The sender as a principal of its own: its account id, never its login, which can be reused. */
function senderIdentity(event: GitEvent, hook: Hook): Identity {
  const accountId = event.sender.id;
  if (accountId === undefined) throw malformed('The delivery names no sender account id');
  const instance = hook.config.instance ?? hook.provider.name;
  return {
    method: 'webhook',
    principal: webhookPrincipal(instance, accountId),
    issuer: `webhook:${instance}`,
    subject: accountId,
    login: event.sender.login,
    ...(event.sender.name === undefined ? {} : { name: event.sender.name }),
    groups: [],
    roles: [],
    scopes: [],
    provider: hook.provider.name,
    hook: hook.name,
  };
}
