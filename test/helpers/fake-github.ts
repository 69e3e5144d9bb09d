// A local GitHub for the reconciler's tests. It sends webhook deliveries the way GitHub does (one
// guid per event, X-GitHub-* headers, X-Hub-Signature-256 over the raw body, a 10 s timeout) and
// serves GitHub's REST API for a hook's deliveries, for repository, organization and App hooks:
// list (newest first, cursor paging with a Link header, status filter), get one, and redeliver
// (202 at once, then the same raw body and headers again under the same guid to the hook's current
// url, recorded as a new delivery with redelivery: true).
//
// Repository and organization endpoints take the configured token (`Bearer` or `token`); App
// endpoints take a JWT the App signs with its key (RS256, iss = App id as string or number, at most
// 10 minutes from iat to exp), as GitHub does. Every API answer carries GitHub's x-ratelimit-*
// headers; limitRate() makes calls answer 403 once the remaining count is spent, until the reset
// time, and secondaryLimitNext() makes the next call answer 429 with retry-after.
//
// Every JSON body the API answers is first checked against GitHub's OpenAPI description
// (openapi-check.ts). A mismatch is recorded in schemaViolations and answered 500 instead, so a
// test fails rather than trusting a shape GitHub never sends; query parameters the description
// rejects are answered 422, as GitHub does.
//
// Hostile behaviours, for the reconciler's defences (GitHub would never do these): redirectApi()
// answers every API call with a redirect elsewhere, answerNextRaw() answers the next call with a
// body as given (unchecked), and setNextDeliveryId() makes the next delivery's id whatever it says,
// a jump forward or backward, and can date it in the past.
//
// What a delivery records, where GitHub leaves it open: a receiver that cannot be reached is
// status_code 502, "failed to connect to host" (the description's own example is 502, "failed to
// connect"); one that does not answer within the timeout is 504, "timed out"; an answer is its
// code, with the reason phrase as status for 2xx and 3xx and "Invalid HTTP Response: <code>"
// otherwise. Both 502 and 504 fall in the `failure` filter (400–599).
import { createHmac, randomUUID } from 'node:crypto';
import { once } from 'node:events';
import {
  createServer,
  request as httpRequest,
  STATUS_CODES,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { ErrorObject } from 'ajv';
import { compactVerify, decodeJwt, importSPKI, type CryptoKey, type KeyObject } from 'jose';
import { checkGitHubParameters, checkGitHubResponse, gitHubOperation } from './openapi-check.js';

export type GitHubHookRef =
  | { kind: 'repository'; owner: string; repo: string; hookId: number }
  | { kind: 'organization'; org: string; hookId: number }
  | { kind: 'app'; appId: number };

export type GitHubHook =
  | { kind: 'repository'; owner: string; repo: string; hookId: number; url: string; secret: string }
  | { kind: 'organization'; org: string; hookId: number; url: string; secret: string }
  | {
      kind: 'app';
      appId: number;
      /** Sent as X-GitHub-Hook-ID; the App id when not given. */
      hookId?: number;
      url: string;
      secret: string;
      /** The App's public key (SPKI PEM or a key), to check the JWTs it signs. */
      publicKey: string | CryptoKey | KeyObject;
    };

/** GitHub's `hook-delivery-item`. */
export interface GitHubDeliveryItem {
  id: number;
  guid: string;
  delivered_at: string;
  redelivery: boolean;
  duration: number;
  status: string;
  status_code: number;
  event: string;
  action: string | null;
  installation_id: number | null;
  repository_id: number | null;
  throttled_at: string | null;
}

/** GitHub's `hook-delivery`. */
export interface GitHubDelivery extends GitHubDeliveryItem {
  url: string;
  request: { headers: Record<string, string>; payload: Record<string, unknown> };
  response: { headers: Record<string, string> | null; payload: string | null };
}

export interface ApiCall {
  method: string;
  /** Path and query, as requested. */
  path: string;
  /** Date.now() when the request arrived. */
  at: number;
}

export interface FakeGitHub {
  /** Base URL of the REST API, e.g. http://127.0.0.1:PORT (as https://api.github.com). */
  url: string;
  /** Delivers an event to the hook like GitHub, records it and returns the record. */
  send(hook: GitHubHookRef, event: string, payload: Record<string, unknown>): Promise<GitHubDelivery>;
  /** The hook's recorded deliveries, newest first. */
  deliveries(hook: GitHubHookRef): GitHubDelivery[];
  setHookUrl(hook: GitHubHookRef, url: string): void;
  /** Redelivery requests the API accepted, in order. */
  redeliveryRequests: Array<{ hook: string; deliveryId: number; at: number }>;
  /** Resolves once no delivery (first or redelivery) is in flight. */
  settled(): Promise<void>;
  /** After `remaining` more calls, calls answer 403 until `resetInSeconds` from now (rounded up to a second). */
  limitRate(options: { remaining: number; resetInSeconds: number }): void;
  /** The next call answers 429 with retry-after. */
  secondaryLimitNext(retryAfterSeconds: number): void;
  /** Calls refused by either limit. */
  readonly rateLimited: number;
  calls: ApiCall[];
  schemaViolations: Array<{ operationId: string; status: number; body: unknown; errors: ErrorObject[] }>;
  /** Passes the next checked API body through `change` before it is checked: to prove drift is caught. */
  corruptNextResponse(change: (body: unknown) => unknown): void;
  /** Hostile: every API call is answered 307 to the same path under `base` (undefined: stop). */
  redirectApi(base: string | undefined): void;
  /** Hostile: the next API call is answered 200 with this body, unchecked. */
  answerNextRaw(body: string | Buffer): void;
  /** Hostile: the next delivery gets this id (sent `sentAgoMs` before now), and later ones count on from it. */
  setNextDeliveryId(id: number, sentAgoMs?: number): void;
  close(): Promise<void>;
}

/** The operations served, in GitHub's own path syntax; routing is derived from these. */
export const fakeGitHubOperations = {
  'repos/list-webhook-deliveries': 'GET /repos/{owner}/{repo}/hooks/{hook_id}/deliveries',
  'repos/get-webhook-delivery': 'GET /repos/{owner}/{repo}/hooks/{hook_id}/deliveries/{delivery_id}',
  'repos/redeliver-webhook-delivery': 'POST /repos/{owner}/{repo}/hooks/{hook_id}/deliveries/{delivery_id}/attempts',
  'orgs/list-webhook-deliveries': 'GET /orgs/{org}/hooks/{hook_id}/deliveries',
  'orgs/get-webhook-delivery': 'GET /orgs/{org}/hooks/{hook_id}/deliveries/{delivery_id}',
  'orgs/redeliver-webhook-delivery': 'POST /orgs/{org}/hooks/{hook_id}/deliveries/{delivery_id}/attempts',
  'apps/list-webhook-deliveries': 'GET /app/hook/deliveries',
  'apps/get-webhook-delivery': 'GET /app/hook/deliveries/{delivery_id}',
  'apps/redeliver-webhook-delivery': 'POST /app/hook/deliveries/{delivery_id}/attempts',
} as const;

const routes = Object.entries(fakeGitHubOperations).map(([operationId, route]) => {
  const [method, template] = route.split(' ') as [string, string];
  return {
    operationId,
    method,
    names: [...template.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!),
    pattern: new RegExp(`^${template.replace(/\{\w+\}/g, '([^/]+)')}$`),
  };
});

const rateLimitDocs = 'https://docs.github.com/rest/overview/resources-in-the-rest-api#rate-limiting';
const secondaryLimitDocs =
  'https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits';
const hourlyLimit = 5000;

type Outcome =
  | { kind: 'response'; status: number; headers: Record<string, string>; body: string }
  | { kind: 'timeout' }
  | { kind: 'unreachable'; message: string };

/** POSTs a webhook body and reports what came back; never rejects. Shared with the GitLab fake. */
export function postWebhook(
  target: string,
  headers: Record<string, string>,
  body: Buffer,
  timeoutMs: number,
  signal: AbortSignal,
): Promise<Outcome> {
  return new Promise((resolve) => {
    let timer: NodeJS.Timeout | undefined;
    try {
      // A fresh connection each time, as a webhook sender makes: no keep-alive socket that the
      // receiver may close between two deliveries.
      const request = httpRequest(
        target,
        { method: 'POST', agent: false, signal, headers: { ...headers, 'Content-Length': String(body.length) } },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('error', (error) => resolve({ kind: 'unreachable', message: error.message }));
          response.on('end', () => {
            clearTimeout(timer);
            resolve({
              kind: 'response',
              status: response.statusCode ?? 0,
              headers: headerObject(response.rawHeaders),
              body: Buffer.concat(chunks).toString('utf8'),
            });
          });
        },
      );
      timer = setTimeout(() => {
        resolve({ kind: 'timeout' });
        request.destroy();
      }, timeoutMs);
      request.on('error', (error) => {
        clearTimeout(timer);
        resolve({ kind: 'unreachable', message: error.message });
      });
      request.end(body);
    } catch (error) {
      clearTimeout(timer);
      resolve({ kind: 'unreachable', message: (error as Error).message });
    }
  });
}

/** Header names as the receiver spelled them. */
function headerObject(raw: string[]): Record<string, string> {
  const headers: Record<string, string> = {};
  for (let i = 0; i + 1 < raw.length; i += 2) headers[raw[i]!] = raw[i + 1]!;
  return headers;
}

function keyOf(hook: GitHubHookRef): string {
  switch (hook.kind) {
    case 'repository':
      return `repos/${hook.owner.toLowerCase()}/${hook.repo.toLowerCase()}/${hook.hookId}`;
    case 'organization':
      return `orgs/${hook.org.toLowerCase()}/${hook.hookId}`;
    case 'app':
      return `app/${hook.appId}`;
  }
}

function idOf(value: unknown): number | null {
  const id = typeof value === 'object' && value !== null ? (value as { id?: unknown }).id : undefined;
  return typeof id === 'number' ? id : null;
}

function item(delivery: GitHubDelivery): GitHubDeliveryItem {
  const { url: _url, request: _request, response: _response, ...rest } = delivery;
  return rest;
}

interface HookState {
  key: string;
  config: GitHubHook;
  url: string;
  verifyKey?: CryptoKey | KeyObject;
}

interface Stored {
  hook: string;
  delivery: GitHubDelivery;
  raw: Buffer;
}

/** A loopback server for a fake API: a handler that throws answers 500 with its message. */
export async function serveApi(
  handle: (request: IncomingMessage, response: ServerResponse) => Promise<unknown>,
): Promise<Server> {
  const server: Server = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      handle(request, response).catch((error: unknown) => {
        response.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ message: String(error) }));
      });
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return server;
}

export async function startFakeGitHub(options: {
  token: string;
  hooks: GitHubHook[];
  /** How long a receiver may take to answer; GitHub's limit is 10 s. */
  deliveryTimeoutMs?: number;
}): Promise<FakeGitHub> {
  const timeoutMs = options.deliveryTimeoutMs ?? 10_000;
  const hooks = new Map<string, HookState>(
    options.hooks.map((config) => [keyOf(config), { key: keyOf(config), config, url: config.url }]),
  );
  const stored: Stored[] = [];
  const inFlight = new Set<Promise<unknown>>();
  const redeliveryRequests: FakeGitHub['redeliveryRequests'] = [];
  const calls: ApiCall[] = [];
  const schemaViolations: FakeGitHub['schemaViolations'] = [];
  const aborter = new AbortController();
  let nextId = 1000;
  let rateLimited = 0;
  let secondaryRetryAfter: number | undefined;
  let corrupt: ((body: unknown) => unknown) | undefined;
  let redirectBase: string | undefined;
  let rawNext: string | Buffer | undefined;
  let backdateNextMs = 0;
  const rate = { remaining: hourlyLimit, resetAt: Math.ceil(Date.now() / 1000) + 3600 };

  const hookOf = (ref: GitHubHookRef) => {
    const hook = hooks.get(keyOf(ref));
    if (hook === undefined) throw new Error(`fake GitHub: no hook ${keyOf(ref)}`);
    return hook;
  };

  const track = <T>(work: Promise<T>): Promise<T> => {
    inFlight.add(work);
    void work.finally(() => inFlight.delete(work));
    return work;
  };

  async function deliver(
    hook: HookState,
    headers: Record<string, string>,
    raw: Buffer,
    payload: Record<string, unknown>,
    redelivery: boolean,
  ): Promise<GitHubDelivery> {
    const id = nextId++;
    const deliveredAt = new Date(Date.now() - backdateNextMs);
    backdateNextMs = 0;
    const started = performance.now();
    const outcome = await postWebhook(hook.url, headers, raw, timeoutMs, aborter.signal);
    const [status, statusCode] =
      outcome.kind === 'response'
        ? [
            outcome.status < 400 ? (STATUS_CODES[outcome.status] ?? 'OK') : `Invalid HTTP Response: ${outcome.status}`,
            outcome.status,
          ]
        : outcome.kind === 'timeout'
          ? ['timed out', 504]
          : ['failed to connect to host', 502];
    const delivery: GitHubDelivery = {
      id,
      guid: headers['X-GitHub-Delivery']!,
      delivered_at: deliveredAt.toISOString().replace(/\.\d{3}Z$/, 'Z'),
      redelivery,
      duration: Math.round(performance.now() - started) / 1000,
      status,
      status_code: statusCode,
      event: headers['X-GitHub-Event']!,
      action: typeof payload.action === 'string' ? payload.action : null,
      installation_id: idOf(payload.installation),
      repository_id: idOf(payload.repository),
      throttled_at: null,
      url: hook.url,
      request: { headers, payload },
      response:
        outcome.kind === 'response'
          ? { headers: outcome.headers, payload: outcome.body }
          : { headers: null, payload: null },
    };
    stored.push({ hook: hook.key, delivery, raw });
    return delivery;
  }

  function send(ref: GitHubHookRef, event: string, payload: Record<string, unknown>): Promise<GitHubDelivery> {
    const hook = hookOf(ref);
    const config = hook.config;
    const raw = Buffer.from(JSON.stringify(payload));
    const target =
      config.kind === 'repository'
        ? { type: 'repository', id: idOf(payload.repository) }
        : config.kind === 'organization'
          ? { type: 'organization', id: idOf(payload.organization) }
          : { type: 'integration', id: config.appId };
    const headers: Record<string, string> = {
      Accept: '*/*',
      'Content-Type': 'application/json',
      'User-Agent': 'GitHub-Hookshot/fake',
      'X-GitHub-Delivery': randomUUID(),
      'X-GitHub-Event': event,
      'X-GitHub-Hook-ID': String(config.kind === 'app' ? (config.hookId ?? config.appId) : config.hookId),
      ...(target.id === null ? {} : { 'X-GitHub-Hook-Installation-Target-ID': String(target.id) }),
      'X-GitHub-Hook-Installation-Target-Type': target.type,
      'X-Hub-Signature': `sha1=${createHmac('sha1', config.secret).update(raw).digest('hex')}`,
      'X-Hub-Signature-256': `sha256=${createHmac('sha256', config.secret).update(raw).digest('hex')}`,
    };
    return track(deliver(hook, headers, raw, payload, false));
  }

  async function verifyAppJwt(authorization: string | undefined): Promise<HookState | string> {
    const undecodable = 'A JSON web token could not be decoded';
    const token = /^Bearer\s+(\S+)$/i.exec(authorization ?? '')?.[1];
    if (token === undefined) return undecodable;
    let claims: Record<string, unknown>;
    try {
      claims = decodeJwt(token);
    } catch {
      return undecodable;
    }
    const hook = hooks.get(`app/${String(claims.iss)}`);
    if (hook === undefined || hook.config.kind !== 'app') return 'Integration not found';
    try {
      // Claims are checked here rather than by jwtVerify: GitHub takes iss as a number too.
      hook.verifyKey ??=
        typeof hook.config.publicKey === 'string'
          ? await importSPKI(hook.config.publicKey, 'RS256')
          : hook.config.publicKey;
      await compactVerify(token, hook.verifyKey, { algorithms: ['RS256'] });
    } catch {
      return undecodable;
    }
    const now = Date.now() / 1000;
    const { iat, exp } = claims;
    if (typeof iat !== 'number' || iat > Math.ceil(now))
      return "'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued";
    if (typeof exp !== 'number' || exp <= now)
      return "'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires";
    if (exp - iat > 600) return "'Expiration time' claim ('exp') is too far in the future";
    return hook;
  }

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://fake');
    const method = request.method ?? 'GET';
    calls.push({ method, path: url.pathname + url.search, at: Date.now() });
    if (redirectBase !== undefined) {
      request.resume();
      response.writeHead(307, { location: `${redirectBase}${url.pathname}${url.search}` }).end();
      return;
    }
    if (rawNext !== undefined) {
      const body = rawNext;
      rawNext = undefined;
      request.resume();
      response.writeHead(200, { 'content-type': 'application/json; charset=utf-8' }).end(body);
      return;
    }

    const rateHeaders = (): Record<string, string> => ({
      'x-ratelimit-limit': String(hourlyLimit),
      'x-ratelimit-remaining': String(rate.remaining),
      'x-ratelimit-reset': String(rate.resetAt),
      'x-ratelimit-used': String(hourlyLimit - rate.remaining),
      'x-ratelimit-resource': 'core',
    });
    const answer = (
      status: number,
      body: unknown,
      operationId: string | undefined,
      headers: Record<string, string> = {},
    ) => {
      let out = body;
      if (operationId !== undefined) {
        if (corrupt !== undefined) {
          out = corrupt(out);
          corrupt = undefined;
        }
        const errors = checkGitHubResponse(operationId, status, out);
        if (errors.length > 0) {
          schemaViolations.push({ operationId, status, body: out, errors });
          status = 500;
          out = { message: "fake GitHub: this answer does not match GitHub's OpenAPI description", errors };
          headers = {};
        }
      }
      response
        .writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...rateHeaders(), ...headers })
        .end(JSON.stringify(out));
    };

    let route: (typeof routes)[number] | undefined;
    let match: RegExpExecArray | null = null;
    for (const candidate of routes) {
      match = candidate.method === method ? candidate.pattern.exec(url.pathname) : null;
      if (match !== null) {
        route = candidate;
        break;
      }
    }
    if (route === undefined || match === null)
      return answer(404, { message: 'Not Found', documentation_url: 'https://docs.github.com/rest' }, undefined);
    const { operationId } = route;
    const values = match;
    const docs = gitHubOperation(operationId).documentationUrl;
    const error = (status: number, message: string, headers?: Record<string, string>) =>
      answer(status, { message, documentation_url: docs, status: String(status) }, operationId, headers);

    let hook: HookState | undefined;
    if (operationId.startsWith('apps/')) {
      const verified = await verifyAppJwt(request.headers.authorization);
      if (typeof verified === 'string') return error(401, verified);
      hook = verified;
    } else {
      const given = /^(?:Bearer|token)\s+(\S+)$/i.exec(request.headers.authorization ?? '')?.[1];
      if (given === undefined) return error(401, 'Requires authentication');
      if (given !== options.token) return error(401, 'Bad credentials');
    }

    const nowSeconds = Date.now() / 1000;
    if (nowSeconds >= rate.resetAt) {
      rate.remaining = hourlyLimit;
      rate.resetAt = Math.ceil(nowSeconds) + 3600;
    }
    if (secondaryRetryAfter !== undefined) {
      const retryAfter = secondaryRetryAfter;
      secondaryRetryAfter = undefined;
      rateLimited += 1;
      return answer(
        429,
        {
          message: 'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.',
          documentation_url: secondaryLimitDocs,
          status: '429',
        },
        operationId,
        { 'retry-after': String(retryAfter) },
      );
    }
    if (rate.remaining <= 0) {
      rateLimited += 1;
      const who = hook?.config.kind === 'app' ? `app ID ${hook.config.appId}` : 'user ID 1';
      return answer(
        403,
        { message: `API rate limit exceeded for ${who}.`, documentation_url: rateLimitDocs },
        operationId,
      );
    }
    rate.remaining -= 1;

    const given = Object.fromEntries(route.names.map((name, i) => [name, decodeURIComponent(values[i + 1]!)]));
    const query = Object.fromEntries([...url.searchParams.keys()].map((key) => [key, url.searchParams.get(key)!]));
    const params = checkGitHubParameters(operationId, { path: given, query });
    if (params.errors.some((e) => e.name in given)) return error(404, 'Not Found');
    if (params.errors.length > 0) {
      const reasons = params.errors.map((e) => `For 'properties/${e.name}', ${JSON.stringify(e.value)} ${e.message}.`);
      return error(422, `Invalid request.\n\n${reasons.join('\n')}`);
    }

    if (hook === undefined) {
      const key = operationId.startsWith('repos/')
        ? `repos/${given.owner!.toLowerCase()}/${given.repo!.toLowerCase()}/${String(params.path.hook_id)}`
        : `orgs/${given.org!.toLowerCase()}/${String(params.path.hook_id)}`;
      hook = hooks.get(key);
      if (hook === undefined) return error(404, 'Not Found');
    }
    const own = stored.filter((s) => s.hook === hook.key).sort((a, b) => b.delivery.id - a.delivery.id);

    if (operationId.endsWith('/list-webhook-deliveries')) {
      const perPage = Math.min(Math.max(Number(params.query.per_page), 1), 100);
      let before = Infinity;
      if (params.query.cursor !== undefined) {
        const cursor = /^v1_(\d+)$/.exec(String(params.query.cursor));
        if (cursor === null) return error(400, 'Invalid cursor');
        before = Number(cursor[1]);
      }
      const filter = params.query.status;
      const matching = own.filter(({ delivery: d }) => {
        if (d.id >= before) return false;
        if (filter === 'success') return d.status_code >= 200 && d.status_code <= 399;
        if (filter === 'failure') return d.status_code >= 400 && d.status_code <= 599;
        return true;
      });
      const page = matching.slice(0, perPage).map((s) => item(s.delivery));
      const headers: Record<string, string> = {};
      if (matching.length > perPage) {
        const next = new URL(url.pathname + url.search, `http://${request.headers.host ?? 'localhost'}`);
        next.searchParams.set('per_page', String(perPage));
        next.searchParams.set('cursor', `v1_${page[page.length - 1]!.id}`);
        headers.link = `<${next.toString()}>; rel="next"`;
      }
      return answer(200, page, operationId, headers);
    }

    const found = own.find((s) => s.delivery.id === params.path.delivery_id);
    if (found === undefined) return error(404, 'Not Found');
    if (operationId.endsWith('/get-webhook-delivery')) return answer(200, found.delivery, operationId);

    redeliveryRequests.push({ hook: hook.key, deliveryId: found.delivery.id, at: Date.now() });
    answer(202, {}, operationId);
    const target = hook;
    // GitHub queues the attempt; it reaches the receiver shortly after the 202.
    void track(
      new Promise((resolve) => setTimeout(resolve, 20)).then(() =>
        deliver(target, found.delivery.request.headers, found.raw, found.delivery.request.payload, true),
      ),
    );
  }

  const server = await serveApi(handle);

  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    send,
    deliveries: (ref) =>
      stored
        .filter((s) => s.hook === keyOf(ref))
        .map((s) => s.delivery)
        .sort((a, b) => b.id - a.id),
    setHookUrl(ref, url) {
      hookOf(ref).url = url;
    },
    redeliveryRequests,
    async settled() {
      while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
    },
    limitRate({ remaining, resetInSeconds }) {
      rate.remaining = remaining;
      rate.resetAt = Math.ceil(Date.now() / 1000 + resetInSeconds);
    },
    secondaryLimitNext(retryAfterSeconds) {
      secondaryRetryAfter = retryAfterSeconds;
    },
    get rateLimited() {
      return rateLimited;
    },
    calls,
    schemaViolations,
    redirectApi(base) {
      redirectBase = base;
    },
    answerNextRaw(body) {
      rawNext = body;
    },
    setNextDeliveryId(id, sentAgoMs = 0) {
      nextId = id;
      backdateNextMs = sentAgoMs;
    },
    corruptNextResponse(change) {
      corrupt = change;
    },
    async close() {
      aborter.abort();
      server.closeAllConnections();
      server.close();
    },
  };
}
