// GitHub's hook deliveries API, as the reconciler uses it: list a hook's recent deliveries a page
// at a time (newest first, paged by the cursor in the Link header) and ask for one to be sent
// again. Three kinds of hook keep deliveries: a repository's, an organization's, and a GitHub
// App's own (listed with the App's JWT). Rate limits are answers, not errors: a call GitHub
// refuses for its rate limit says until when to wait, and a call that used the last request of
// the window says so too, so the caller (a workflow) can sleep durably instead of failing.
//
// GitHub's API is not trusted further than it must be: redirects are refused and answers capped
// (provider-fetch.ts), a page holds at most the deliveries asked for, and text fields are cut
// short, so what reaches the workflow stays small whatever a server sends. Whether the ids are
// plausible is the workflow's question (src/core/reconcile.ts): it alone knows what came before.
import { request } from '@octokit/request';
import { createAppAuth } from '@octokit/auth-app';
import { ApplicationFailure } from '@temporalio/common';
import { fail } from '../../core/failures.js';
import { providerFetch } from '../provider-fetch.js';
import type { RateLimited } from '../reconciler.js';

export type GitHubHookTarget =
  | { kind: 'repository'; owner: string; repo: string; hookId: number }
  | { kind: 'organization'; org: string; hookId: number }
  | { kind: 'app' };

/** The fields of GitHub's `hook-delivery-item` the reconciler reads. */
export interface HookDelivery {
  id: number;
  guid: string;
  deliveredAt: string;
  redelivery: boolean;
  status: string;
  statusCode: number;
  event: string;
  action: string | null;
}

export interface DeliveryPage {
  deliveries: HookDelivery[];
  /** The cursor of the next (older) page, when there is one. */
  next?: string;
  /** The window's last request was used: wait until then before the next call (epoch ms). */
  pauseUntil?: number;
}

export interface HookDeliveriesClient {
  listPage(cursor: string | undefined, perPage?: number): Promise<DeliveryPage | RateLimited>;
  /**
   * `refused`: GitHub would not redeliver it now (400 or 422); `gone`: GitHub no longer has it (404:
   * deliveries are kept for 3 days).
   */
  redeliver(
    deliveryId: number,
  ): Promise<{ accepted: boolean; refused?: true; gone?: true; pauseUntil?: number } | RateLimited>;
}

export interface HookDeliveriesOptions {
  apiUrl: string;
  target: GitHubHookTarget;
  /** A token for repository and organization hooks. */
  token?: string;
  /** The App's id and private key, for the App's hook. */
  app?: { appId: string; privateKey: string };
  /** The longest one call may take. */
  timeoutMs: number;
  /** Only for tests: the clock rate-limit headers are read against. */
  now?: () => number;
}

/** The most of one GitHub answer read: a page of 100 deliveries is about 50 KB. */
export const maxGitHubAnswerBytes = 1_048_576;
/** The longest text field kept from a delivery (a guid is 36 characters). */
const maxFieldLength = 200;

export function createHookDeliveriesClient(options: HookDeliveriesOptions): HookDeliveriesClient {
  const now = options.now ?? Date.now;
  const api = request.defaults({
    baseUrl: options.apiUrl.replace(/\/+$/, ''),
    headers: { 'x-github-api-version': '2022-11-28', 'user-agent': 'gatehouse-reconciler' },
    request: { fetch: providerFetch('GitHub', maxGitHubAnswerBytes, options.timeoutMs), redirect: 'error' },
  });
  const appAuth =
    options.app === undefined
      ? undefined
      : createAppAuth({ appId: options.app.appId, privateKey: options.app.privateKey });
  const authorization = async () => {
    if (appAuth !== undefined) return `Bearer ${(await appAuth({ type: 'app' })).token}`;
    if (options.token === undefined)
      throw fail('ReconcilerRejected', 'a repository or organization hook needs a token');
    return `Bearer ${options.token}`;
  };
  const base = basePath(options.target);
  const params = pathParams(options.target);

  async function call(route: string, extra: Record<string, unknown>, answers: number[] = []) {
    try {
      const answer = await api(route, { ...params, ...extra, headers: { authorization: await authorization() } });
      return { answer };
    } catch (error) {
      // What providerFetch refused (a redirect, an oversized answer) reaches here wrapped by octokit.
      const cause = error instanceof Error ? error.cause : undefined;
      if (cause instanceof ApplicationFailure) throw cause;
      const limited = rateLimitOf(error, now());
      if (limited !== undefined) return { limited };
      const status = error instanceof Error && 'status' in error ? Number(error.status) : 0;
      if (answers.includes(status)) return { refusedWith: status };
      // Credentials, permissions, a wrong hook id: asking again will not help.
      if (status >= 400 && status < 500)
        throw fail('ReconcilerRejected', `GitHub answered ${status} to ${route.split(' ')[0]} ${base}/deliveries`);
      throw error;
    }
  }

  return {
    async listPage(cursor, perPage = 100) {
      const { answer, limited } = await call(`GET ${base}/deliveries`, {
        per_page: perPage,
        ...(cursor === undefined ? {} : { cursor }),
      });
      if (limited !== undefined) return limited;
      const data: unknown = answer!.data;
      if (!Array.isArray(data)) throw fail('ReconcilerRejected', 'GitHub answered a delivery list that is not a list');
      const items = (data as unknown[]).filter(
        (item): item is Record<string, unknown> => typeof item === 'object' && item !== null,
      );
      const next = nextCursor(answer!.headers.link);
      const pauseUntil = pauseOf(answer!.headers);
      return {
        // A page never holds more than was asked for: the rest of an overlong one is not read.
        deliveries: items.slice(0, perPage).map(toDelivery),
        ...(next === undefined ? {} : { next }),
        ...(pauseUntil === undefined ? {} : { pauseUntil }),
      };
    },
    async redeliver(deliveryId) {
      const { answer, limited, refusedWith } = await call(
        `POST ${base}/deliveries/{delivery_id}/attempts`,
        { delivery_id: deliveryId },
        [400, 404, 422],
      );
      if (limited !== undefined) return limited;
      if (refusedWith === 404) return { accepted: false, gone: true };
      if (refusedWith !== undefined) return { accepted: false, refused: true };
      const pauseUntil = pauseOf(answer!.headers);
      return { accepted: true, ...(pauseUntil === undefined ? {} : { pauseUntil }) };
    },
  };
}

function basePath(target: GitHubHookTarget): string {
  switch (target.kind) {
    case 'repository':
      return '/repos/{owner}/{repo}/hooks/{hook_id}';
    case 'organization':
      return '/orgs/{org}/hooks/{hook_id}';
    case 'app':
      return '/app/hook';
  }
}

function pathParams(target: GitHubHookTarget): Record<string, string | number> {
  switch (target.kind) {
    case 'repository':
      return { owner: target.owner, repo: target.repo, hook_id: target.hookId };
    case 'organization':
      return { org: target.org, hook_id: target.hookId };
    case 'app':
      return {};
  }
}

function toDelivery(item: Record<string, unknown>): HookDelivery {
  const text = (value: unknown) => String(value ?? '').slice(0, maxFieldLength);
  return {
    id: Number(item.id),
    guid: text(item.guid),
    deliveredAt: text(item.delivered_at),
    redelivery: item.redelivery === true,
    status: text(item.status),
    statusCode: Number(item.status_code ?? 0),
    event: text(item.event),
    action: typeof item.action === 'string' ? text(item.action) : null,
  };
}

/** The `cursor` of the Link header's rel="next" URL. */
export function nextCursor(link: string | undefined): string | undefined {
  if (link === undefined) return undefined;
  for (const part of link.split(',')) {
    const match = /<([^>]+)>\s*;\s*rel="next"/.exec(part);
    if (match === null) continue;
    const cursor = new URL(match[1]!).searchParams.get('cursor');
    if (cursor !== null && cursor !== '') return cursor;
  }
  return undefined;
}

type Headers = Record<string, string | number | undefined>;

/** A success that used the window's last request: wait for the reset before the next call. */
function pauseOf(headers: Headers): number | undefined {
  if (String(headers['x-ratelimit-remaining']) !== '0') return undefined;
  const reset = Number(headers['x-ratelimit-reset']);
  return Number.isFinite(reset) ? reset * 1000 : undefined;
}

/**
 * GitHub's refusals for rate limits: the primary limit (403 or 429 with x-ratelimit-remaining 0,
 * until x-ratelimit-reset), a secondary limit (403 or 429 with retry-after), or a bare 429 (a
 * minute, as GitHub's guidance says). Anything else is not a rate limit.
 */
function rateLimitOf(error: unknown, now: number): RateLimited | undefined {
  if (!(error instanceof Error) || !('status' in error)) return undefined;
  const status = Number(error.status);
  if (status !== 403 && status !== 429) return undefined;
  const headers = ((error as { response?: { headers?: Headers } }).response?.headers ?? {}) as Headers;
  const retryAfter = Number(headers['retry-after']);
  if (Number.isFinite(retryAfter) && retryAfter >= 0) return { rateLimited: true, until: now + retryAfter * 1000 };
  if (String(headers['x-ratelimit-remaining']) === '0') {
    const reset = Number(headers['x-ratelimit-reset']);
    return { rateLimited: true, until: Number.isFinite(reset) ? reset * 1000 : now + 60_000 };
  }
  if (status === 429) return { rateLimited: true, until: now + 60_000 };
  return undefined;
}
