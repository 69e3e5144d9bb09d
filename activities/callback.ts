// Completion callbacks (src/core/callbacks.ts): reading a closed job's final state from Temporal,
// and one signed POST of it to the job's callback URL.
//
// The POST follows the Standard Webhooks scheme: `webhook-id` is the job's (the same on every
// attempt, so a receiver dedupes a retry whose first answer was lost), `webhook-timestamp` is this
// attempt's, and `webhook-signature` is `v1,<base64 HMAC-SHA256 of id.timestamp.body>` with the
// receiver's own key (callbacks.receivers.<name>.secret), so no receiver can sign for another.
// The body is the same bytes on every attempt.
//
// The receiver is somebody else's server, so: the config is asked again before each attempt (the
// receiver must still exist and allow this URL for this job and caller); redirects are never
// followed (a 3xx is a failed attempt, as the receiver's own answer); one attempt has a deadline
// for the whole exchange; at most 1 KiB of the answer is read, only to say why an attempt failed;
// and a host that keeps failing has its circuit opened (activities/host-breaker.ts), so attempts
// to it fail at once until its cool-down has passed. Any answer but a 2xx, a timeout or a network
// error is retried by the workflow's policy; 410 Gone ends the callback.
import { Context } from '@temporalio/activity';
import { Webhook } from 'standardwebhooks';
import {
  callbackEvent,
  type CallbackAddressee,
  type CallbackAnswer,
  type CallbackDelivery,
  type CallbackRequest,
  type CallbackRetry,
  type JobClose,
} from '../src/core/callbacks.js';
import type { JobView } from '../src/core/job-view.js';
import { fail } from '../src/core/failures.js';
import type { Secret } from '../src/core/secret.js';
import type { HostBreaker } from './host-breaker.js';

/** Whether a delivery may go out now, and to which receiver; else why not. */
export type ReceiverCheck = { ok: true; receiver: string } | { ok: false; detail: string };

export interface CallbackDeps {
  /** The job's latest run as Temporal holds it; undefined when Temporal has no such job. */
  readJob(jobId: string): Promise<JobView | undefined>;
  /** Each receiver's Standard Webhooks key (whsec_<base64>) by name; checked when the worker starts. */
  keys: ReadonlyMap<string, Secret>;
  /** Asks callbacks.receivers whether this delivery, for a job of `route`, may go out now. */
  check(addressee: CallbackAddressee, route: string): ReceiverCheck;
  retry: CallbackRetry;
  /** The worker's circuit breaker per receiver host. */
  breaker: HostBreaker;
}

/** The most of a receiver's answer that is read. */
const answerReadLimit = 1024;

export function createCallbackActivities(deps: CallbackDeps) {
  const send = callbackSender(deps);
  return {
    /** The job's final state as GET /v1/jobs/{jobId} shows it, or RUNNING while it has not closed. */
    async readJobClose(request: CallbackRequest): Promise<JobClose> {
      const run = await deps.readJob(request.jobId);
      if (run === undefined) throw fail('JobUnreadable', `Temporal has no job ${request.jobId}`);
      if (run.status === 'RUNNING') return { status: 'RUNNING' };
      const { route, workflowType, source, owner } = request.job;
      const { runId, status, startedAt, closedAt, result, failure } = run;
      // GET /v1/jobs/{jobId}'s fields, in its order.
      const state = {
        jobId: request.jobId,
        runId,
        route,
        workflowType,
        source,
        owner,
        status,
        startedAt,
        ...(closedAt === undefined ? {} : { closedAt }),
        ...('result' in run ? { result } : {}),
        ...(failure === undefined ? {} : { failure }),
      };
      return { status: 'CLOSED', event: callbackEvent(state), retry: deps.retry };
    },

    async postCallback(delivery: CallbackDelivery): Promise<CallbackAnswer> {
      const context = Context.current();
      const status = await send(delivery, context.cancellationSignal);
      return { status, attempt: context.info.attempt };
    },
  };
}

/**
 * One attempt of a delivery: to the receiver callbacks.receivers allows it for now, signed with
 * that receiver's key; refused (CallbackRejected, nothing sent) when none does.
 */
export function callbackSender(deps: Omit<CallbackDeps, 'readJob'>) {
  const signers = new Map([...deps.keys].map(([name, key]) => [name, new Webhook(key.reveal())]));
  return async (delivery: CallbackDelivery, signal?: AbortSignal): Promise<number> => {
    const check = deps.check(delivery, delivery.event.data.route);
    if (!check.ok) throw fail('CallbackRejected', `${check.detail}; the callback is not sent`);
    const webhook = signers.get(check.receiver);
    if (webhook === undefined)
      throw fail('CallbackRejected', `the callback receiver ${check.receiver} has no key on this worker`);
    return sendCallback(delivery, {
      webhook,
      breaker: deps.breaker,
      timeoutMs: deps.retry.attemptTimeoutMs,
      ...(signal === undefined ? {} : { signal }),
    });
  };
}

export interface SendOptions {
  /** The signer, holding the receiver's key. */
  webhook: Webhook;
  breaker: HostBreaker;
  /** The deadline of the whole exchange. */
  timeoutMs: number;
  /** Ends the attempt early (the activity's cancellation: a worker shutting down). */
  signal?: AbortSignal;
}

/**
 * One attempt: the signed POST, and the receiver's 2xx status. Any other outcome throws the
 * failure type the retry policy acts on: CallbackUnavailable or CallbackCircuitOpen (tried again)
 * or CallbackRejected.
 */
export async function sendCallback(delivery: CallbackDelivery, options: SendOptions): Promise<number> {
  const where = describeUrl(delivery.url);
  const host = new URL(delivery.url).host;
  const ticket = options.breaker.enter(host);
  if (!ticket.go)
    throw fail(
      'CallbackCircuitOpen',
      `${host} failed too often; its circuit is ${ticket.state}, so no attempt was made (next in ${Math.ceil(ticket.retryInMs / 1000)} s)`,
      { nextRetryDelayMs: ticket.retryInMs },
    );
  try {
    const status = await attempt(delivery, options, where);
    ticket.succeeded();
    return status;
  } catch (error) {
    // The host was reached and refused (410, a 4xx, a redirect): it is up, so the circuit stays closed.
    if (hostFailed(error)) ticket.failed();
    else ticket.succeeded();
    throw error;
  }
}

/** Whether an attempt's failure says the host is down or overloaded: no answer, 5xx or 429. */
function hostFailed(error: unknown): boolean {
  const status = (error as { details?: unknown[] }).details?.[0];
  return typeof status !== 'number' || status >= 500 || status === 429;
}

async function attempt(delivery: CallbackDelivery, options: SendOptions, where: string): Promise<number> {
  const body = JSON.stringify(delivery.event);
  const timestamp = new Date();
  const headers = {
    'content-type': 'application/json',
    'user-agent': 'gatehouse',
    'webhook-id': delivery.webhookId,
    'webhook-timestamp': String(Math.floor(timestamp.getTime() / 1000)),
    'webhook-signature': options.webhook.sign(delivery.webhookId, timestamp, body),
  };
  // One deadline for the whole exchange, from a plain timer: combined with other signals, Node 20
  // may let a garbage collection drop an AbortSignal.timeout (nodejs/node#57736).
  const controller = new AbortController();
  const timer = setTimeout(
    () => controller.abort(new Error(`no answer within ${options.timeoutMs} ms`)),
    options.timeoutMs,
  );
  const cancelled = () => controller.abort(new Error('the attempt was cancelled'));
  options.signal?.addEventListener('abort', cancelled, { once: true });
  let status: number;
  let answer = '';
  try {
    const response = await fetch(delivery.url, {
      method: 'POST',
      body,
      headers,
      redirect: 'manual',
      signal: controller.signal,
    }).catch((error: unknown) => {
      const reason = controller.signal.aborted ? (controller.signal.reason as Error).message : describeError(error);
      throw fail('CallbackUnavailable', `${where} could not be reached: ${reason}`, { cause: error as Error });
    });
    status = response.status;
    // A 2xx is the answer: its body is not read. Otherwise a little of it says why; a body that
    // fails or stalls (until the deadline) changes nothing about the status.
    if (status >= 200 && status < 300) await response.body?.cancel().catch(() => undefined);
    else answer = await readSome(response.body, answerReadLimit).catch(() => '');
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', cancelled);
  }
  if (status >= 200 && status < 300) return status;
  const said = answer === '' ? '' : `: ${answer}`;
  // The status rides along as the failure's detail, for the circuit breaker.
  if (status === 410) throw fail('CallbackRejected', `${where} answered 410 Gone${said}`, { details: [status] });
  throw fail('CallbackUnavailable', `${where} answered ${status}${said}`, { details: [status] });
}

/** fetch's own message is "fetch failed"; the reason (ECONNREFUSED, a reset) is its cause. */
function describeError(error: unknown): string {
  const cause = (error as { cause?: { code?: unknown; message?: unknown } }).cause;
  if (typeof cause?.code === 'string') return cause.code;
  if (typeof cause?.message === 'string') return cause.message;
  return (error as Error).message;
}

/** The URL without its query, which may carry the receiver's own token, for messages and logs. */
function describeUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.origin}${parsed.pathname}`;
  } catch {
    return 'the callback URL';
  }
}

/** Up to `limit` bytes of a body, as printable text; the rest is never read. */
async function readSome(body: ReadableStream<Uint8Array> | null, limit: number): Promise<string> {
  if (body === null) return '';
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < limit) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.byteLength;
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  return Buffer.concat(chunks)
    .subarray(0, limit)
    .toString('utf8')
    .replace(/[^\x20-\x7e]+/g, ' ')
    .trim();
}
