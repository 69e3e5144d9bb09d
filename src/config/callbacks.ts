// Completion callback receivers (src/core/callbacks.ts): which URL a job may name, and which
// receiver, with which key, it then goes to. One check, used by the config loader (routes'
// defaults), the bridge (a caller's Gatehouse-Callback-URL, before anything starts) and the
// delivering worker (again before each POST, since the config may have changed since the job
// started).
//
// Each receiver (callbacks.receivers.<name>) has its own URL pattern (src/config/callback-url.ts),
// its own Standard Webhooks key, and says who may name it:
// - `routes`: only jobs of these routes; a route's default callback must be listed here;
// - `groups`: only callers in one of these groups (in Gatehouse-Callback-URL);
// - both: both must hold. One of them must be written: a receiver open to any caller of any route
//   is what let a non-admin aim its signed callback at another team's receiver.
// `query` names the query parameters the URL may carry; without it, none.
//
// A URL goes to the first receiver, in file order, that allows it for the caller. Keys are per
// receiver because Standard Webhooks `v1` is a symmetric HMAC: a receiver holding a shared key
// could sign a callback every other receiver accepts.
import { callbackQueueSuffix, type CallbackAddressee, type CallbackRetry } from '../core/callbacks.js';
import {
  describeCallbackUrl,
  matchesPattern,
  parseCallbackUrl,
  parseUrlPattern,
  queryProblem,
} from './callback-url.js';
import { durationMs } from './duration.js';
import type { CallbackReceiverConfig, CallbacksConfig, GatehouseConfigFile } from './schema.js';

/**
 * Who names a callback: the job's route, and the caller's groups. Without `groups` it is the
 * route's own default, which the operator named, so only the receiver's `routes` are asked.
 */
export interface CallbackNamer {
  route: string;
  groups?: readonly string[];
}

export type CallbackCheck =
  | { ok: true; url: string; receiver: string }
  | { ok: false; reason: 'invalid' | 'not-allowed' | 'forbidden'; detail: string };

export interface CallbackReceivers {
  /** Callbacks are on: there are receivers. */
  readonly enabled: boolean;
  /** The first receiver, in file order, that allows `raw` for `namer`. */
  check(raw: string, namer: CallbackNamer): CallbackCheck;
  /** Whether the receiver `name` allows `raw` for `namer` now. */
  recheck(name: string, raw: string, namer: CallbackNamer): CallbackCheck;
  /** Whether a delivery for a job of `route` may go out now, and to which receiver (the worker, each attempt). */
  deliverable(addressee: CallbackAddressee, route: string): CallbackCheck;
}

interface Receiver {
  name: string;
  config: CallbackReceiverConfig;
  matches(url: URL): boolean;
}

/** Whether `namer` may name the receiver (its URL aside). */
function mayName(receiver: CallbackReceiverConfig, namer: CallbackNamer): boolean {
  const { routes, groups } = receiver;
  if (namer.groups === undefined) return routes?.includes(namer.route) ?? false;
  if (routes !== undefined && !routes.includes(namer.route)) return false;
  return groups === undefined || groups.some((group) => namer.groups!.includes(group));
}

const notYours = (namer: CallbackNamer): CallbackCheck => ({
  ok: false,
  reason: 'forbidden',
  detail:
    namer.groups === undefined
      ? `no callback receiver that allows this URL lists the route ${namer.route} in its routes`
      : `the callback receivers that allow this URL are not for jobs of ${namer.route} started by this caller (their routes or groups)`,
});

/** The receivers, with what is wrong with any of them (by name). */
export function compileReceivers(receivers: Readonly<Record<string, CallbackReceiverConfig>>): {
  receivers: CallbackReceivers;
  problems: Array<{ name: string; problem: string }>;
} {
  const compiled: Receiver[] = [];
  const problems: Array<{ name: string; problem: string }> = [];
  for (const [name, config] of Object.entries(receivers)) {
    const pattern = parseUrlPattern(config.url);
    if (typeof pattern === 'string') problems.push({ name, problem: `url: ${pattern}` });
    else compiled.push({ name, config, matches: (url) => matchesPattern(pattern, url) });
    if (config.routes === undefined && config.groups === undefined)
      problems.push({ name, problem: 'say who may name this receiver: routes, groups, or both' });
  }

  const decide = (candidates: Receiver[], raw: string, namer: CallbackNamer): CallbackCheck => {
    const url = parseCallbackUrl(raw);
    if (typeof url === 'string') return { ok: false, reason: 'invalid', detail: url };
    const matching = candidates.filter((receiver) => receiver.matches(url));
    if (matching.length === 0)
      return {
        ok: false,
        reason: 'not-allowed',
        detail: `no callback receiver allows ${describeCallbackUrl(url)}`,
      };
    const usable = matching.filter((receiver) => mayName(receiver.config, namer));
    if (usable.length === 0) return notYours(namer);
    const chosen = usable.find((receiver) => queryProblem(url, receiver.config.query) === undefined);
    if (chosen === undefined)
      return {
        ok: false,
        reason: 'not-allowed',
        detail: `the callback receiver ${usable[0]!.name} ${queryProblem(url, usable[0]!.config.query)}`,
      };
    return { ok: true, url: url.href, receiver: chosen.name };
  };

  const recheck = (name: string, raw: string, namer: CallbackNamer): CallbackCheck => {
    const receiver = compiled.find((candidate) => candidate.name === name);
    if (receiver === undefined)
      return { ok: false, reason: 'not-allowed', detail: `there is no callback receiver ${name} any more` };
    return decide([receiver], raw, namer);
  };
  return {
    receivers: {
      enabled: Object.keys(receivers).length > 0,
      check: (raw, namer) => decide(compiled, raw, namer),
      recheck,
      deliverable({ url, receiver, caller }, route) {
        // A callback started before receivers existed names none: it is checked as if a caller in
        // no group had named it, so it goes only to a receiver bound to its route alone.
        if (receiver === undefined) return decide(compiled, url, { route, groups: [] });
        return recheck(receiver, url, caller === undefined ? { route } : { route, groups: caller.groups });
      },
    },
    problems,
  };
}

/**
 * Whether the workers polling `taskQueue` deliver callbacks: those on callbacks.taskQueue, or,
 * when it is not set, those of every queue a route runs on (each job's callback on its own queue).
 */
export function deliversCallbacks(config: GatehouseConfigFile, taskQueue: string): boolean {
  if (Object.keys(config.callbacks.receivers).length === 0) return false;
  const queue = config.callbacks.taskQueue;
  if (queue !== undefined) return queue === taskQueue;
  return Object.values(config.routes).some((route) => route.taskQueue === taskQueue);
}

export function callbackRetry(callbacks: CallbacksConfig): CallbackRetry {
  return {
    initialIntervalMs: durationMs(callbacks.initialInterval),
    maximumIntervalMs: durationMs(callbacks.maxInterval),
    retryForMs: durationMs(callbacks.retryFor),
    attemptTimeoutMs: durationMs(callbacks.timeout),
  };
}

/** Why a resolved value is not a Standard Webhooks secret, or undefined when it is one. */
export function signingSecretProblem(value: string): string | undefined {
  const base64 = value.startsWith('whsec_') ? value.slice('whsec_'.length) : undefined;
  if (base64 === undefined || !/^[A-Za-z0-9+/]+={0,2}$/.test(base64))
    return 'not a Standard Webhooks secret: whsec_ followed by base64';
  const bytes = Buffer.from(base64, 'base64').length;
  if (bytes < 24 || bytes > 64) return `the key is ${bytes} bytes; Standard Webhooks keys are 24 to 64 bytes`;
  return undefined;
}

/** The callbacks section and every route's default callback, checked against each other. */
export function checkCallbacks(config: GatehouseConfigFile): string[] {
  const { callbacks } = config;
  const problems: string[] = [];
  // The keys of the single shared secret, refused with what to write instead: keeping it would
  // let any receiver forge callbacks for every other one.
  if (callbacks.secret !== undefined)
    problems.push(
      '/callbacks/secret: one key for every receiver is no longer accepted (any receiver could sign callbacks the others accept). Give each receiver its own key under callbacks.receivers.<name>.secret (a new whsec_ key each, from { env } or { file }) and delete callbacks.secret',
    );
  if (callbacks.allow !== undefined)
    problems.push(
      '/callbacks/allow: replaced by callbacks.receivers: write each entry as callbacks.receivers.<name> with url (the pattern), secret (its own key), routes and/or groups (who may name it) and query (the parameters it takes), then delete callbacks.allow',
    );
  const { receivers, problems: receiverProblems } = compileReceivers(callbacks.receivers);
  problems.push(...receiverProblems.map(({ name, problem }) => `/callbacks/receivers/${name}: ${problem}`));
  for (const [name, receiver] of Object.entries(callbacks.receivers)) {
    for (const route of receiver.routes ?? [])
      if (!Object.hasOwn(config.routes, route))
        problems.push(`/callbacks/receivers/${name}/routes: no route named "${route}"`);
  }
  if (callbacks.taskQueue !== undefined && !config.taskQueues.includes(callbacks.taskQueue))
    problems.push(
      `/callbacks/taskQueue: "${callbacks.taskQueue}" is not one of /taskQueues (${config.taskQueues.join(', ')})`,
    );
  config.taskQueues.forEach((queue, index) => {
    if (queue.endsWith(callbackQueueSuffix))
      problems.push(`/taskQueues/${index}: names ending in ${callbackQueueSuffix} are the callbacks' own queues`);
  });
  const retry = callbackRetry(callbacks);
  if (retry.initialIntervalMs < 1) problems.push('/callbacks/initialInterval: must be more than 0');
  if (retry.maximumIntervalMs < retry.initialIntervalMs)
    problems.push('/callbacks/maxInterval: must be at least callbacks.initialInterval');
  if (retry.attemptTimeoutMs < 100 || retry.attemptTimeoutMs > 300_000)
    problems.push('/callbacks/timeout: from 100ms to 5m');
  if (retry.retryForMs < retry.attemptTimeoutMs)
    problems.push('/callbacks/retryFor: must be at least callbacks.timeout');
  if (durationMs(callbacks.breaker.coolDown) < 1) problems.push('/callbacks/breaker/coolDown: must be more than 0');
  for (const [name, route] of Object.entries(config.routes)) {
    if (route.callback === undefined) continue;
    const check = receivers.check(route.callback, { route: name });
    if (!check.ok)
      problems.push(
        `/routes/${name}/callback: ${check.reason === 'invalid' ? `not a usable callback URL: ${check.detail}` : check.detail}`,
      );
  }
  return problems;
}
