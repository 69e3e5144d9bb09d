// Signs deliveries the way each provider does, for the webhook tests.
import { createHmac, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { Webhook } from 'standardwebhooks';

export function hmacHex(secret: string, body: string): string {
  return createHmac('sha256', secret).update(body).digest('hex');
}

export function fixture(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(new URL(`../fixtures/webhooks/${name}.json`, import.meta.url), 'utf8')) as Record<
    string,
    unknown
  >;
}

/** An example payload from @octokit/webhooks-examples, by event name and a predicate. */
export function githubExample(
  event: string,
  pick: (example: Record<string, unknown>) => boolean = () => true,
): Record<string, unknown> {
  const all = JSON.parse(
    readFileSync(
      new URL('../../node_modules/@octokit/webhooks-examples/api.github.com/index.json', import.meta.url),
      'utf8',
    ),
  ) as Array<{ name: string; examples: Array<Record<string, unknown>> }>;
  const found = all.find((entry) => entry.name === event)?.examples.find(pick);
  if (found === undefined) throw new Error(`no ${event} example`);
  return found;
}

/** GitHub's push example, to refs/heads/main at `after`, its repository cloned from `cloneUrl`. */
export function githubPush(after: string, cloneUrl: string): Record<string, unknown> {
  const example = githubExample('push', (e) => e.ref === 'refs/heads/master');
  return {
    ...example,
    ref: 'refs/heads/main',
    after,
    repository: { ...(example.repository as object), clone_url: cloneUrl },
  };
}

export interface Delivery {
  url: string;
  body: string;
  headers: Record<string, string>;
}

export function githubDelivery(
  payload: unknown,
  options: { secret: string; event: string; delivery?: string; hookId?: string; form?: boolean; path?: string },
): Delivery {
  const json = JSON.stringify(payload);
  const body = options.form === true ? `payload=${encodeURIComponent(json)}` : json;
  return {
    url: options.path ?? '/v1/webhooks/github',
    body,
    headers: {
      'content-type': options.form === true ? 'application/x-www-form-urlencoded' : 'application/json',
      'x-github-event': options.event,
      'x-github-delivery': options.delivery ?? randomUUID(),
      'x-github-hook-id': options.hookId ?? '424242',
      'x-hub-signature-256': `sha256=${hmacHex(options.secret, body)}`,
      'user-agent': 'GitHub-Hookshot/abc123',
    },
  };
}

export function gitlabDelivery(
  payload: unknown,
  options: {
    token: string;
    event: string;
    uuid?: string;
    idempotencyKey?: string;
    signingSecret?: string;
    path?: string;
  },
): Delivery {
  const body = JSON.stringify(payload);
  const eventUuid = options.uuid ?? randomUUID();
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'x-gitlab-event': options.event,
    'x-gitlab-token': options.token,
    'x-gitlab-event-uuid': eventUuid,
    'x-gitlab-webhook-uuid': 'a1b2c3d4-0000-4000-8000-000000000000',
    ...(options.idempotencyKey === undefined ? {} : { 'idempotency-key': options.idempotencyKey }),
  };
  if (options.signingSecret !== undefined) {
    const id = `msg_${eventUuid}`;
    const now = new Date();
    headers['webhook-id'] = id;
    headers['webhook-timestamp'] = String(Math.floor(now.getTime() / 1000));
    headers['webhook-signature'] = new Webhook(options.signingSecret).sign(id, now, body);
  }
  return { url: options.path ?? '/v1/webhooks/gitlab', body, headers };
}

export function giteaDelivery(
  payload: unknown,
  options: { secret: string; event: string; delivery?: string; forgejo?: boolean },
): Delivery {
  const body = JSON.stringify(payload);
  const family = options.forgejo === true ? 'forgejo' : 'gitea';
  return {
    url: '/v1/webhooks/gitea',
    body,
    headers: {
      'content-type': 'application/json',
      [`x-${family}-event`]: options.event,
      [`x-${family}-delivery`]: options.delivery ?? randomUUID(),
      [`x-${family}-signature`]: hmacHex(options.secret, body),
    },
  };
}

export function bitbucketDelivery(
  payload: unknown,
  options: { secret: string; event: string; request?: string },
): Delivery {
  const body = JSON.stringify(payload);
  return {
    url: '/v1/webhooks/bitbucket',
    body,
    headers: {
      'content-type': 'application/json',
      'x-event-key': options.event,
      'x-request-uuid': options.request ?? randomUUID(),
      'x-hook-uuid': '{5e1f3a2b-0000-4000-8000-000000000002}',
      'x-attempt-number': '1',
      'x-hub-signature': `sha256=${hmacHex(options.secret, body)}`,
    },
  };
}

export function deliver(app: FastifyInstance, delivery: Delivery) {
  return app.inject({ method: 'POST', url: delivery.url, payload: delivery.body, headers: delivery.headers });
}
