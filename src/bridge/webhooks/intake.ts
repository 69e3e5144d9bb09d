// One webhook delivery, from raw bytes to a job: the provider's signature is checked over exactly
// the bytes received before anything is parsed or believed; the payload is normalized (the raw
// body never reaches Temporal); the hook's rules pick the route; the sender becomes a principal
// built from its immutable account id; the job service starts the job, keyed by the delivery.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { GitEvent } from '../../core/git-event.js';
import type { Identity } from '../../core/identity.js';
import { webhookPrincipal } from '../../core/principal.js';
import { isOnHost } from '../../config/clone-url.js';
import type { WebhookHookConfig } from '../../config/schema.js';
import { isCommitSha, isFullRef, isRefName, isRepositoryName } from '../../core/git-names.js';
import { PayloadError, type DeliveryHeaders, type HookSecrets, type Provider } from '../../providers/provider.js';
import type { ProviderName } from '../../providers/registry.js';
import { GatehouseError } from '../errors.js';
import type { JobKey } from '../jobs/derive-job-id.js';
import { jobLinks } from '../jobs/job-schemas.js';
import type { ReplayLink } from '../jobs/start-job.js';
import { matchRule, type CompiledRule } from './match-rule.js';

export interface Hook {
  provider: Provider & { name: ProviderName };
  name: string;
  config: WebhookHookConfig;
  /** The hook's rules with their globs compiled (once, at start-up). */
  rules: CompiledRule[];
  secrets: HookSecrets;
  /** This hook's server: its webUrl, else ci.webUrls.<provider> (src/config/clone-url.ts). */
  webUrl: string | undefined;
  /** The clone-URL rule bound to that server: a repository's clone URL, never a payload's. */
  cloneUrl(fullName: string): string | undefined;
}

export type IntakeAnswer =
  | { ignored: string }
  | { jobId: string; runId: string; route: string; duplicate: boolean; links: ReturnType<typeof jobLinks> };

const malformed = (detail: string) => new GatehouseError('GATEHOUSE_WEBHOOK_MALFORMED', detail);

/** What the intake learned of a delivery, for its delivery-log record, whatever the answer. */
export interface DeliveryFindings {
  /** The delivery headers, read and bounded once, before the body (undefined: missing or refused). */
  delivery?: DeliveryHeaders;
  /** The signature matched one of the hook's secrets. */
  verified: boolean;
  /** The normalized event, once read (the workflow input; kept so the delivery can be replayed). */
  event?: GitEvent;
  answer?: IntakeAnswer;
}

export async function takeDelivery(
  app: FastifyInstance,
  request: FastifyRequest,
  hook: Hook,
  findings: DeliveryFindings,
): Promise<IntakeAnswer> {
  const read = await readVerifiedEvent(request, hook, findings);
  if ('ignored' in read) return (findings.answer = read);
  findings.event = read.event;
  const answer = await startForEvent(app, request, hook, read.event, {
    // Keyed by the signed bytes, not by the unsigned delivery headers: a captured body sent
    // again under a new delivery id answers the job it already started.
    kind: 'delivery',
    provider: hook.provider.name,
    hook: hook.name,
    bodySha256: request.bodySha256,
    deliveryId: read.event.deliveryId,
  });
  return (findings.answer = answer);
}

/** The hook's rules pick the route; the job service starts it (or answers the job the key started). */
export async function startForEvent(
  app: FastifyInstance,
  request: FastifyRequest,
  hook: Hook,
  event: GitEvent,
  key: JobKey,
  replayOf?: ReplayLink,
): Promise<IntakeAnswer> {
  const match = matchRule(event, hook.rules);
  if ('ignored' in match) return match;
  const started = await app.jobs.start(request, {
    route: match.route,
    input: event,
    identity: senderIdentity(event, hook),
    key,
    source: hook.provider.name,
    deliveryId: event.deliveryId,
    ...(replayOf === undefined ? {} : { replayOf }),
  });
  return {
    jobId: started.jobId,
    runId: started.runId,
    route: started.route,
    duplicate: started.replayed,
    links: jobLinks(started.jobId),
  };
}

/**
 * The signature check and the reading of the payload into the small normalized event. The raw
 * body and the parsed document are the large objects of a delivery (up to 25 MB and several
 * times that parsed): they live only in this function, and the request lets go of the body, so
 * neither is held while the job is started.
 */
async function readVerifiedEvent(
  request: FastifyRequest,
  hook: Hook,
  findings: DeliveryFindings,
): Promise<{ ignored: string } | { event: GitEvent }> {
  const { webhook } = hook.provider;
  const raw = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
  request.body = undefined;
  if (!(await webhook.verify(request.headers, raw, hook.secrets))) {
    throw new GatehouseError(
      'GATEHOUSE_WEBHOOK_SIGNATURE_INVALID',
      `The ${hook.provider.name} signature does not match any secret configured for this hook`,
    );
  }
  findings.verified = true;
  const { delivery } = findings;
  if (delivery === undefined)
    throw malformed('The delivery lacks its event or delivery id header, or one is not acceptable');
  let payload: unknown;
  try {
    payload = webhook.parse(raw, request.headers['content-type'] ?? '');
  } catch (error) {
    throw malformed(error instanceof PayloadError ? error.message : 'The payload is not valid JSON');
  }
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload))
    throw malformed('The payload is not a JSON object');
  // The event header is not signed: the signed payload must have that event's shape.
  if (!webhook.matchesEvent(delivery.event, payload as Record<string, unknown>)) {
    throw malformed(`The payload does not have the shape of a ${delivery.event.slice(0, 100)} event`);
  }
  const normalized = webhook.normalize(delivery.event, payload as Record<string, unknown>);
  if (normalized === 'ping') return { ignored: 'ping' };
  const event: GitEvent = {
    provider: hook.provider.name,
    hook: hook.name,
    deliveryId: delivery.deliveryId,
    event: delivery.event,
    ...normalized,
  };
  const sent = event.repository.cloneUrl;
  if (sent !== undefined && (hook.webUrl === undefined || !isOnHost(sent, hook.webUrl))) {
    throw malformed("The payload's repository is not on this hook's configured server");
  }
  return { event: checkedEvent(hook, event) };
}

/**
 * The event as a job may take it: plain names, and the clone URL made from the hook's configured
 * server, never taken from the payload. Run again on a stored event before it is replayed, so a
 * replay follows the configuration of now.
 */
export function checkedEvent(hook: Hook, event: GitEvent): GitEvent {
  checkNames(event);
  const { cloneUrl: _sent, ...repository } = event.repository;
  const cloneUrl = repository.fullName === '' ? undefined : hook.cloneUrl(repository.fullName);
  return { ...event, repository: { ...repository, ...(cloneUrl === undefined ? {} : { cloneUrl }) } };
}

/** Names a job will clone, build or report on must have plain shapes (src/core/git-names.ts). */
function checkNames(event: GitEvent): void {
  const bad = (what: string) => malformed(`The payload's ${what} is not an acceptable name`);
  if (event.repository.fullName !== '' && !isRepositoryName(event.repository.fullName)) throw bad('repository');
  if (event.ref !== undefined && !isFullRef(event.ref) && event.kind !== 'other') throw bad('ref');
  if (event.branch !== undefined && !isRefName(event.branch)) throw bad('branch');
  if (event.tag !== undefined && !isRefName(event.tag)) throw bad('tag');
  for (const sha of [event.before, event.after, event.pullRequest?.headSha]) {
    if (sha !== undefined && !isCommitSha(sha)) throw bad('commit id');
  }
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

/**
 * Checks made before the body is read: the delivery headers are present and bounded, and the
 * signature headers have the right form. An unsigned or malformed request is refused without
 * buffering or hashing its body.
 */
export function checkDeliveryHeaders(request: FastifyRequest, hook: Hook, delivery: DeliveryHeaders | undefined): void {
  const { webhook } = hook.provider;
  if (!webhook.looksSigned(request.headers, hook.secrets)) {
    throw new GatehouseError(
      'GATEHOUSE_WEBHOOK_SIGNATURE_INVALID',
      `The ${hook.provider.name} signature is missing or malformed`,
    );
  }
  if (delivery === undefined) {
    throw malformed('The delivery lacks its event or delivery id header, or one is not acceptable');
  }
}
