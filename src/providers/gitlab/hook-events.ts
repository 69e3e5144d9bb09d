// GitLab's project hook API, as the reconciler uses it: the hook's health (GitLab disables a hook
// that keeps failing: `alert_status` temporarily_disabled until `disabled_until`, or disabled), its
// recent events (the last 7 days, newest first, paged by page number) and resending one (GitLab
// 17.4 and later). A resend that succeeds re-enables the hook, as any successful delivery does.
//
// Every send of one event carries the same Idempotency-Key header, resends included; a resend
// gets a new X-Gitlab-Event-UUID, so the event UUID cannot tell sends of one event apart from
// other events. GitLab refuses a resend with 422 when the receiver cannot be reached or the hook
// is disabled: that is an answer (try again at the next check), not a broken configuration.
// Rate limits are answers too (429; GitLab sends no Retry-After, so a minute), so a workflow can
// wait durably.
//
// GitLab's API is not trusted further than it must be: redirects are refused and answers capped
// (provider-fetch.ts), a page holds at most the events asked for, and text fields are cut short.
import { createHash } from 'node:crypto';
import { fail } from '../../core/failures.js';
import { providerFetch } from '../provider-fetch.js';
import type { RateLimited } from '../reconciler.js';

export type GitLabAlertStatus = 'executable' | 'temporarily_disabled' | 'disabled';

export interface GitLabHookHealth {
  alertStatus: GitLabAlertStatus;
  disabledUntil: string | null;
}

export interface GitLabHookEvent {
  id: number;
  /** The Idempotency-Key header: the same for every send of one event, resends included. */
  eventKey: string | null;
  /** GitLab's text: a status code ("200", "503") or an error ("internal error"). */
  responseStatus: string;
  createdAt: string;
  trigger: string;
}

export interface GitLabHookClient {
  readHook(): Promise<GitLabHookHealth>;
  listEvents(page: number, perPage?: number): Promise<{ events: GitLabHookEvent[]; nextPage?: number } | RateLimited>;
  /** `refused`: GitLab would not resend it now (422: receiver unreachable, hook disabled). */
  resend(eventId: number): Promise<{ responseStatus: string; refused?: true } | RateLimited>;
}

/**
 * The most of one GitLab answer read. Each hook event carries the request it logged (headers and
 * body), so a page of 100 is far larger than GitHub's; lower perPage if a hook's payloads are big.
 */
export const maxGitLabAnswerBytes = 32 * 1_048_576;
/** The longest text field kept from an event (an Idempotency-Key is a UUID). */
const maxFieldLength = 200;

export function createGitLabHookClient(options: {
  apiUrl: string;
  project: string;
  hookId: number;
  token: string;
  /** The longest one call may take. */
  timeoutMs: number;
  now?: () => number;
}): GitLabHookClient {
  const now = options.now ?? Date.now;
  const base = `${options.apiUrl.replace(/\/+$/, '')}/projects/${encodeURIComponent(options.project)}/hooks/${options.hookId}`;
  const fetchApi = providerFetch('GitLab', maxGitLabAnswerBytes, options.timeoutMs);
  const call = async (method: 'GET' | 'POST', path: string, answers: number[] = []) => {
    const response = await fetchApi(`${base}${path}`, {
      method,
      headers: { 'private-token': options.token, accept: 'application/json', 'user-agent': 'gatehouse-reconciler' },
      // The token header would follow a redirect to another host: never follow one.
      redirect: 'error',
    });
    if (response.status === 429) {
      const retryAfter = Number(response.headers.get('retry-after'));
      await response.body?.cancel();
      return {
        limited: {
          rateLimited: true,
          until: now() + (Number.isFinite(retryAfter) ? retryAfter : 60) * 1000,
        } as RateLimited,
      };
    }
    if (!response.ok && !answers.includes(response.status)) {
      await response.body?.cancel();
      const message = `GitLab answered ${response.status} to ${method} hooks/${options.hookId}${path}`;
      // Credentials, permissions, a wrong hook id: asking again will not help.
      if (response.status >= 400 && response.status < 500) throw fail('ReconcilerRejected', message);
      throw new Error(message);
    }
    return { response };
  };
  return {
    async readHook() {
      const { response, limited } = await call('GET', '');
      if (limited !== undefined) throw new Error('GitLab rate-limited the hook read');
      const hook = (await response!.json()) as Record<string, unknown>;
      const status = hook.alert_status;
      return {
        alertStatus: status === 'disabled' || status === 'temporarily_disabled' ? status : 'executable',
        disabledUntil: typeof hook.disabled_until === 'string' ? hook.disabled_until : null,
      };
    },
    async listEvents(page, perPage = 100) {
      const { response, limited } = await call('GET', `/events?page=${page}&per_page=${perPage}`);
      if (limited !== undefined) return limited;
      const data: unknown = await response!.json();
      if (!Array.isArray(data)) throw fail('ReconcilerRejected', 'GitLab answered an event list that is not a list');
      const items = (data as unknown[])
        .filter((item): item is Record<string, unknown> => typeof item === 'object' && item !== null)
        .slice(0, perPage);
      const next = Number(response!.headers.get('x-next-page'));
      const text = (value: unknown) => String(value ?? '').slice(0, maxFieldLength);
      return {
        events: items.map((item) => ({
          id: Number(item.id),
          eventKey:
            headerOf(item.request_headers, 'idempotency-key')?.slice(0, maxFieldLength) ?? bodyKey(item.request_data),
          responseStatus: text(item.response_status),
          createdAt: text(item.created_at),
          trigger: text(item.trigger),
        })),
        ...(Number.isInteger(next) && next > 0 ? { nextPage: next } : {}),
      };
    },
    async resend(eventId) {
      const { response, limited } = await call('POST', `/events/${eventId}/resend`, [422]);
      if (limited !== undefined) return limited;
      if (response!.status === 422) {
        await response!.body?.cancel();
        return { responseStatus: '422', refused: true };
      }
      const body = (await response!.json().catch(() => ({}))) as Record<string, unknown>;
      return { responseStatus: String(body.response_status ?? response!.status) };
    },
  };
}

/**
 * Without an Idempotency-Key (older GitLab), the logged body identifies the event: a resend sends
 * the logged (redacted) copy, which is logged again as sent.
 */
function bodyKey(data: unknown): string | null {
  if (data === undefined || data === null) return null;
  return `body:${createHash('sha256').update(JSON.stringify(data)).digest('hex')}`;
}

function headerOf(headers: unknown, name: string): string | null {
  if (headers === null || typeof headers !== 'object') return null;
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() === name && typeof value === 'string') return value;
  }
  return null;
}
