// A local GitLab for the reconciler's tests: it delivers project-hook events the way GitLab does
// and serves the project hooks API under /api/v4 — the hook (with alert_status and disabled_until),
// its recent events (GitLab 17.3+: newest first, `status` filter, page/per_page with x-page
// headers) and resend (17.4+). A project is named by id or URL-encoded path; the API token comes
// as PRIVATE-TOKEN or `Authorization: Bearer`.
//
// Hostile behaviours, for the reconciler's defences (GitLab would never do these): redirectApi()
// answers every API call with a redirect elsewhere, answerNextRaw() the next one with a body as given,
// and setNextEventId() makes the next event's id whatever it says (a jump forward or backward) and can
// date it in the past.
//
// Where GitLab's source, rather than its API page, decides the behaviour, the fake follows the
// source:
//  - a delivery carries X-Gitlab-Event, X-Gitlab-Token (the secret, verbatim), X-Gitlab-Event-UUID,
//    X-Gitlab-Webhook-UUID (new for every request), X-Gitlab-Instance and Idempotency-Key;
//  - the event log keeps request_data as a JSON object, with the token shown as [REDACTED] and any
//    string value that is an e-mail address replaced by [REDACTED];
//  - resend posts that logged request_data again, not the original bytes, with the original
//    Idempotency-Key but a new X-Gitlab-Event-UUID (the UUID of the API request that asked for the
//    resend) and a new X-Gitlab-Webhook-UUID: Idempotency-Key is the only header that stays the
//    same. It answers 201 {"response_status": <code>} for any HTTP answer, and 422 with a message
//    when the receiver could not be reached, the hook is disabled, or the hook's URL has changed
//    since the event;
//  - resends are limited to 5 a minute (a fixed window from the first one) per project and token,
//    which is how GitLab scopes that limit; beyond it, 429;
//  - a receiver that cannot be reached is logged with response_status "internal error", which none
//    of the status filters (successful, client_failure, server_failure) match.
//
// Auto-disabling is simplified: 4 consecutive failures disable the hook; if the last one was a 4xx
// it is `disabled` for good, otherwise (5xx, unreachable, timeout) `temporarily_disabled` for a
// fixed backoffMs (1 minute by default; GitLab doubles it on each further failure, up to a day).
// When that time has passed the hook is executable again, but the failure streak is kept, so the
// next failure disables it again at once, as in GitLab. A success clears the streak. While the hook
// is disabled, send() delivers and records nothing, as GitLab drops those events.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { postWebhook, serveApi, type ApiCall } from './fake-github.js';

export interface GitLabHook {
  projectId: number;
  /** The project's full path, e.g. group/name. */
  projectPath: string;
  hookId: number;
  url: string;
  /** The hook's secret token, sent as X-Gitlab-Token. */
  token?: string;
}

export interface GitLabHookRef {
  projectId: number;
  hookId: number;
}

export type AlertStatus = 'executable' | 'temporarily_disabled' | 'disabled';

/** An entry of GET /projects/:id/hooks/:hook_id/events. */
export interface GitLabHookEvent {
  id: number;
  url: string;
  trigger: string;
  request_headers: Record<string, string>;
  request_data: Record<string, unknown>;
  response_headers: Record<string, string>;
  response_body: string;
  execution_duration: number;
  response_status: string;
  created_at: string;
}

export type GitLabSendResult = { dropped: false; event: GitLabHookEvent } | { dropped: true; alertStatus: AlertStatus };

export interface FakeGitLabHooks {
  /** The instance URL; the API is under /api/v4. */
  url: string;
  /** Delivers an event (`Push Hook`, `Merge Request Hook`, …) like GitLab and logs it. */
  send(hook: GitLabHookRef, event: string, payload: Record<string, unknown>): Promise<GitLabSendResult>;
  /** The hook's logged events, newest first. */
  events(hook: GitLabHookRef): GitLabHookEvent[];
  /** The hook as GET /projects/:id/hooks/:hook_id answers it. */
  hook(hook: GitLabHookRef): Record<string, unknown>;
  setAlertStatus(hook: GitLabHookRef, status: AlertStatus, disabledUntil?: Date): void;
  setHookUrl(hook: GitLabHookRef, url: string): void;
  /** Resend requests received, with the status answered. */
  resendRequests: Array<{ hook: string; eventId: number; status: number; at: number }>;
  calls: ApiCall[];
  /** Hostile (GitLab would never): every API call is answered 307 to the same path under `base`. */
  redirectApi(base: string | undefined): void;
  /** Hostile: the next API call is answered 200 with this body as given. */
  answerNextRaw(body: string | Buffer): void;
  /** Hostile: the next event gets this id (created `sentAgoMs` before now), and later ones count on from it. */
  setNextEventId(id: number, sentAgoMs?: number): void;
  close(): Promise<void>;
}

interface HookState {
  key: string;
  config: GitLabHook;
  url: string;
  createdAt: string;
  failures: number;
  disabledUntil: number | null;
  permanentlyDisabled: boolean;
}

// As URI::MailTo::EMAIL_REGEXP, which GitLab uses to redact logged payloads.
const emailPattern =
  /^[a-zA-Z0-9.!\#$%&'*+/=?^_`{|}~-]+@[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$/;

function redactEmails(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redactEmails);
  if (typeof value === 'object' && value !== null)
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactEmails(v)]));
  return emailPattern.test(String(value)) ? '[REDACTED]' : value;
}

const keyOf = (hook: GitLabHookRef) => `${hook.projectId}/${hook.hookId}`;

export async function startFakeGitLabHooks(options: {
  /** The API token (PRIVATE-TOKEN or Bearer). */
  privateToken: string;
  hooks: GitLabHook[];
  /** X-Gitlab-Instance. */
  instanceUrl?: string;
  /** How long a temporarily disabled hook stays disabled; 1 minute by default. */
  backoffMs?: number;
  /** GitLab's webhook timeout, 10 s by default. */
  deliveryTimeoutMs?: number;
  /** Resends allowed per project and window; GitLab's are 5 a minute. */
  resendLimit?: { max: number; windowMs: number };
}): Promise<FakeGitLabHooks> {
  const instance = options.instanceUrl ?? 'https://gitlab.example.com';
  const backoffMs = options.backoffMs ?? 60_000;
  const timeoutMs = options.deliveryTimeoutMs ?? 10_000;
  const resendLimit = options.resendLimit ?? { max: 5, windowMs: 60_000 };
  const hooks = new Map<string, HookState>(
    options.hooks.map((config) => [
      keyOf(config),
      {
        key: keyOf(config),
        config,
        url: config.url,
        createdAt: new Date().toISOString(),
        failures: 0,
        disabledUntil: null,
        permanentlyDisabled: false,
      },
    ]),
  );
  const logs: Array<{ hook: string; event: GitLabHookEvent }> = [];
  const resendWindows = new Map<number, { start: number; count: number }>();
  const resendRequests: FakeGitLabHooks['resendRequests'] = [];
  const calls: ApiCall[] = [];
  const aborter = new AbortController();
  let nextEventId = 1;
  let backdateNextMs = 0;

  const hookOf = (ref: GitLabHookRef) => {
    const hook = hooks.get(keyOf(ref));
    if (hook === undefined) throw new Error(`fake GitLab: no hook ${keyOf(ref)}`);
    return hook;
  };

  const alertStatus = (hook: HookState): AlertStatus => {
    if (hook.permanentlyDisabled) return 'disabled';
    if (hook.disabledUntil !== null && hook.disabledUntil >= Date.now()) return 'temporarily_disabled';
    return 'executable';
  };

  const view = (hook: HookState) => {
    const status = alertStatus(hook);
    return {
      id: hook.config.hookId,
      url: hook.url,
      name: '',
      description: '',
      project_id: hook.config.projectId,
      push_events: true,
      push_events_branch_filter: '',
      issues_events: false,
      confidential_issues_events: false,
      merge_requests_events: true,
      tag_push_events: true,
      note_events: false,
      confidential_note_events: false,
      job_events: false,
      pipeline_events: false,
      wiki_page_events: false,
      deployment_events: false,
      releases_events: false,
      feature_flag_events: false,
      enable_ssl_verification: true,
      repository_update_events: false,
      alert_status: status,
      disabled_until:
        status === 'temporarily_disabled' && hook.disabledUntil !== null
          ? new Date(hook.disabledUntil).toISOString()
          : null,
      url_variables: [],
      created_at: hook.createdAt,
      resource_access_token_events: false,
      custom_webhook_template: null,
      custom_headers: [],
    };
  };

  /** One HTTP attempt, logged, with its effect on the hook's failure streak. */
  async function execute(
    hook: HookState,
    eventName: string,
    data: Record<string, unknown>,
    idempotencyKey: string,
  ): Promise<{ event: GitLabHookEvent; error?: string; status?: number }> {
    const token = hook.config.token;
    const headers: Record<string, string> = {
      'Content-Type': 'application/json',
      'User-Agent': 'GitLab/17.5.0',
      'Idempotency-Key': idempotencyKey,
      'X-Gitlab-Event': eventName,
      'X-Gitlab-Webhook-UUID': randomUUID(),
      'X-Gitlab-Instance': instance,
      ...(token === undefined || token === '' ? {} : { 'X-Gitlab-Token': token }),
      'X-Gitlab-Event-UUID': randomUUID(),
    };
    const started = performance.now();
    const id = nextEventId++;
    const createdAt = new Date(Date.now() - backdateNextMs);
    backdateNextMs = 0;
    const outcome = await postWebhook(hook.url, headers, Buffer.from(JSON.stringify(data)), timeoutMs, aborter.signal);
    const event: GitLabHookEvent = {
      id,
      url: hook.url,
      // GitLab names the trigger `push_hooks` and sends `Push Hook`: one is the other, titleized.
      trigger: `${eventName.toLowerCase().replaceAll(' ', '_')}s`,
      request_headers: { ...headers, ...('X-Gitlab-Token' in headers ? { 'X-Gitlab-Token': '[REDACTED]' } : {}) },
      request_data: redactEmails(data) as Record<string, unknown>,
      response_headers: outcome.kind === 'response' ? outcome.headers : {},
      response_body: outcome.kind === 'response' ? outcome.body : '',
      execution_duration: (performance.now() - started) / 1000,
      response_status: outcome.kind === 'response' ? String(outcome.status) : 'internal error',
      created_at: createdAt.toISOString(),
    };
    logs.push({ hook: hook.key, event });
    if (outcome.kind === 'response' && outcome.status < 400) {
      hook.failures = 0;
      hook.disabledUntil = null;
    } else {
      hook.failures += 1;
      if (hook.failures >= 4) {
        if (outcome.kind === 'response' && outcome.status < 500) hook.permanentlyDisabled = true;
        else hook.disabledUntil = Date.now() + backoffMs;
      }
    }
    if (outcome.kind === 'response') return { event, status: outcome.status };
    return { event, error: outcome.kind === 'timeout' ? 'execution expired' : outcome.message };
  }

  async function send(ref: GitLabHookRef, eventName: string, payload: Record<string, unknown>) {
    const hook = hookOf(ref);
    const status = alertStatus(hook);
    if (status !== 'executable') return { dropped: true as const, alertStatus: status };
    const { event } = await execute(hook, eventName, payload, randomUUID());
    return { dropped: false as const, event };
  }

  let redirectBase: string | undefined;
  let rawNext: string | Buffer | undefined;

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
      response.writeHead(200, { 'content-type': 'application/json' }).end(body);
      return;
    }
    const answer = (status: number, body: unknown, headers: Record<string, string> = {}): void => {
      response.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
    };

    const m = /^\/api\/v4\/projects\/([^/]+)\/hooks\/([^/]+)(\/events(?:\/([^/]+)\/resend)?)?$/.exec(url.pathname);
    const kind = m === null ? undefined : m[4] !== undefined ? 'resend' : m[3] !== undefined ? 'events' : 'hook';
    if (m === null || method !== (kind === 'resend' ? 'POST' : 'GET')) return answer(404, { error: '404 Not Found' });

    const bearer = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '')?.[1];
    if ((request.headers['private-token'] ?? bearer) !== options.privateToken)
      return answer(401, { message: '401 Unauthorized' });

    const projectRef = decodeURIComponent(m[1]!);
    const project = [...hooks.values()].find(
      (h) =>
        String(h.config.projectId) === projectRef || h.config.projectPath.toLowerCase() === projectRef.toLowerCase(),
    );
    if (project === undefined) return answer(404, { message: '404 Project Not Found' });
    if (!/^\d+$/.test(m[2]!)) return answer(400, { error: 'hook_id is invalid' });
    const hook = hooks.get(keyOf({ projectId: project.config.projectId, hookId: Number(m[2]) }));
    if (hook === undefined) return answer(404, { message: '404 Not found' });
    const own = logs.filter((l) => l.hook === hook.key).map((l) => l.event);

    if (kind === 'hook') return answer(200, view(hook));

    if (kind === 'events') {
      const integer = (name: string, fallback: number) => {
        const raw = url.searchParams.get(name);
        return raw === null ? fallback : /^\d+$/.test(raw) && Number(raw) > 0 ? Number(raw) : undefined;
      };
      const page = integer('page', 1);
      const perPage = integer('per_page', 20);
      if (page === undefined) return answer(400, { error: 'page is invalid' });
      if (perPage === undefined) return answer(400, { error: 'per_page is invalid' });
      const status = url.searchParams.get('status');
      const ranges: Record<string, [number, number]> = {
        successful: [200, 299],
        client_failure: [400, 499],
        server_failure: [500, 599],
      };
      if (status !== null && !(status in ranges) && !/^\d{3}$/.test(status))
        return answer(400, { error: 'status does not have a valid value' });
      const matching = own
        .filter((e) => {
          if (status === null) return true;
          const range = ranges[status];
          if (range === undefined) return e.response_status === status;
          // 'internal error' is not a number, so it falls in no range, as in GitLab.
          const code = Number(e.response_status);
          return code >= range[0] && code <= range[1];
        })
        .sort((a, b) => b.id - a.id);
      const size = Math.min(perPage, 100);
      const totalPages = Math.max(1, Math.ceil(matching.length / size));
      const link = (p: number) => {
        const target = new URL(url.pathname + url.search, `http://${request.headers.host ?? 'localhost'}`);
        target.searchParams.set('page', String(p));
        target.searchParams.set('per_page', String(size));
        return target.toString();
      };
      const links = [
        ...(page < totalPages ? [`<${link(page + 1)}>; rel="next"`] : []),
        `<${link(1)}>; rel="first"`,
        `<${link(totalPages)}>; rel="last"`,
      ];
      return answer(200, matching.slice((page - 1) * size, page * size), {
        'x-page': String(page),
        'x-per-page': String(size),
        'x-next-page': page < totalPages ? String(page + 1) : '',
        'x-prev-page': page > 1 ? String(page - 1) : '',
        'x-total': String(matching.length),
        'x-total-pages': String(totalPages),
        link: links.join(', '),
      });
    }

    const reply = (eventId: number, status: number, body: unknown) => {
      resendRequests.push({ hook: hook.key, eventId, status, at: Date.now() });
      return answer(status, body);
    };
    const eventId = Number(m[4]);
    if (!/^\d+$/.test(m[4]!)) return reply(eventId, 400, { error: 'hook_event_id is invalid' });
    const now = Date.now();
    let window = resendWindows.get(hook.config.projectId);
    if (window === undefined || now - window.start >= resendLimit.windowMs) {
      window = { start: now, count: 0 };
      resendWindows.set(hook.config.projectId, window);
    }
    window.count += 1;
    if (window.count > resendLimit.max)
      return reply(eventId, 429, {
        message: { error: 'This endpoint has been requested too many times. Try again later.' },
      });
    const original = own.find((e) => e.id === eventId);
    if (original === undefined) return reply(eventId, 404, { message: '404 Not found' });
    if (original.url !== hook.url)
      return reply(eventId, 422, { message: 'The hook URL has changed, and this log entry cannot be retried' });
    if (alertStatus(hook) !== 'executable') return reply(eventId, 422, { message: 'Hook disabled' });
    const result = await execute(
      hook,
      original.request_headers['X-Gitlab-Event']!,
      original.request_data,
      original.request_headers['Idempotency-Key']!,
    );
    if (result.error !== undefined) return reply(eventId, 422, { message: result.error });
    return reply(eventId, 201, { response_status: result.status });
  }

  const server = await serveApi(handle);

  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    send,
    events: (ref) =>
      logs
        .filter((l) => l.hook === keyOf(ref))
        .map((l) => l.event)
        .sort((a, b) => b.id - a.id),
    hook: (ref) => view(hookOf(ref)),
    setAlertStatus(ref, status, disabledUntil) {
      const hook = hookOf(ref);
      hook.permanentlyDisabled = status === 'disabled';
      if (status === 'executable') {
        hook.failures = 0;
        hook.disabledUntil = null;
      }
      if (status === 'temporarily_disabled') {
        hook.failures = Math.max(hook.failures, 4);
        hook.disabledUntil = (disabledUntil ?? new Date(Date.now() + backoffMs)).getTime();
      }
    },
    setHookUrl(ref, url) {
      hookOf(ref).url = url;
    },
    resendRequests,
    calls,
    redirectApi(base) {
      redirectBase = base;
    },
    answerNextRaw(body) {
      rawNext = body;
    },
    setNextEventId(id, sentAgoMs = 0) {
      nextEventId = id;
      backdateNextMs = sentAgoMs;
    },
    async close() {
      aborter.abort();
      server.closeAllConnections();
      server.close();
    },
  };
}
