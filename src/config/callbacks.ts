// Completion callback URLs (src/core/callbacks.ts): which ones a job may name. One check, used by
// the config loader (routes' defaults), the bridge (a caller's Gatehouse-Callback-URL, before
// anything starts) and the delivering worker (again before each POST, since the list may have
// shrunk since the job started).
//
// The allow-list is the SSRF guard: a callback is a request from inside the deployment to a URL
// somebody else chose, so it may only go where the operator said. An entry is
// `scheme://host[:port]/path-glob`:
// - the scheme is https; http is accepted only for a loopback host (tests, a local sidecar);
// - the host is exact, or `*.example.com`, where `*` is exactly one label (never a dot, never
//   empty); hosts are compared as the WHATWG URL parser normalizes them (case, punycode, IPv4);
// - the port is exact (absent: the scheme's default);
// - the path is a glob over the URL's path (`*` one segment, `**` any); it must be written, `/**`
//   for any path. The query string is not matched (it may carry the receiver's own token).
// A URL is refused outright (before the list is asked) when it is not plainly an absolute URL:
// longer than 2048, anything but printable ASCII, credentials, a fragment, or an encoded `/` or
// `\` in its path (which a glob could not see as a separator).
import picomatch from 'picomatch';
import type { CallbackRetry } from '../core/callbacks.js';
import { durationMs } from './duration.js';
import type { CallbacksConfig, GatehouseConfigFile } from './schema.js';

export const maxCallbackUrlLength = 2048;

export type CallbackCheck =
  { ok: true; url: string } | { ok: false; reason: 'invalid' | 'not-allowed'; detail: string };

export interface CallbackAllowList {
  /** Callbacks are on: the list has entries. */
  readonly enabled: boolean;
  check(raw: string): CallbackCheck;
}

interface Pattern {
  scheme: 'http:' | 'https:';
  /** The exact host, or the suffix after `*.`. */
  host: string;
  wildcard: boolean;
  port: string;
  path: (pathname: string) => boolean;
}

const defaultPorts: Record<string, string> = { 'http:': '80', 'https:': '443' };
const patternShape = /^(https?):\/\/(\*\.)?(\[[0-9a-fA-F:.]+\]|[^/:*?#@\s[\]]+)(?::([0-9]{1,5}))?(\/[^#\s]*)$/;

function isLoopback(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127(\.[0-9]{1,3}){3}$/.test(hostname);
}

/** A well-formed callback URL, or why it is not one. */
export function parseCallbackUrl(raw: string): URL | string {
  if (raw.length > maxCallbackUrlLength) return `longer than ${maxCallbackUrlLength} characters`;
  if (!/^[\x21-\x7e]+$/.test(raw)) return 'only printable ASCII without spaces (percent-encode the rest)';
  if (raw.includes('#')) return 'no fragment (#)';
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'not an absolute URL';
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return 'https only';
  if (url.protocol === 'http:' && !isLoopback(url.hostname)) return 'https only (http only for a loopback host)';
  if (url.username !== '' || url.password !== '') return 'no credentials in the URL';
  if (/%(2f|5c)/i.test(url.pathname)) return 'no encoded / or \\ in the path';
  return url;
}

/** One allow-list entry, or why it is not one. */
function parsePattern(text: string): Pattern | string {
  const match = patternShape.exec(text);
  if (match === null) return 'expected scheme://host[:port]/path-glob (write /** for any path)';
  const [, scheme, wildcard, rawHost, port, path] = match as unknown as [
    string,
    'http' | 'https',
    string | undefined,
    string,
    string | undefined,
    string,
  ];
  let host: string;
  try {
    host = new URL(`${scheme}://${rawHost}/`).hostname;
  } catch {
    return `"${rawHost}" is not a host name`;
  }
  if (scheme === 'http' && (wildcard !== undefined || !isLoopback(host)))
    return 'http only for a loopback host (127.0.0.1, [::1], localhost); use https';
  if (port !== undefined && (Number(port) < 1 || Number(port) > 65_535)) return `port ${port} is out of range`;
  return {
    scheme: `${scheme}:` as Pattern['scheme'],
    host,
    wildcard: wildcard !== undefined,
    port: port ?? defaultPorts[`${scheme}:`]!,
    path: picomatch(path, { dot: true }),
  };
}

function matches(pattern: Pattern, url: URL): boolean {
  if (url.protocol !== pattern.scheme || (url.port || defaultPorts[url.protocol]) !== pattern.port) return false;
  if (pattern.wildcard) {
    const label = url.hostname.slice(0, -(pattern.host.length + 1));
    if (!url.hostname.endsWith(`.${pattern.host}`) || label === '' || label.includes('.')) return false;
  } else if (url.hostname !== pattern.host) return false;
  return pattern.path(url.pathname);
}

/** The allow-list of `patterns`, with what is wrong with any of them (by index). */
export function compileAllowList(patterns: readonly string[]): {
  allowList: CallbackAllowList;
  problems: Array<{ index: number; problem: string }>;
} {
  const compiled: Pattern[] = [];
  const problems: Array<{ index: number; problem: string }> = [];
  patterns.forEach((text, index) => {
    const pattern = parsePattern(text);
    if (typeof pattern === 'string') problems.push({ index, problem: pattern });
    else compiled.push(pattern);
  });
  const allowList: CallbackAllowList = {
    enabled: patterns.length > 0,
    check(raw) {
      const url = parseCallbackUrl(raw);
      if (typeof url === 'string') return { ok: false, reason: 'invalid', detail: url };
      if (!compiled.some((pattern) => matches(pattern, url)))
        return {
          ok: false,
          reason: 'not-allowed',
          detail: `callbacks.allow does not allow ${`${url.origin}${url.pathname}`.slice(0, 200)}`,
        };
      return { ok: true, url: url.href };
    },
  };
  return { allowList, problems };
}

/**
 * Whether the workers polling `taskQueue` deliver callbacks: those on callbacks.taskQueue, or,
 * when it is not set, those of every queue a route runs on (each job's callback on its own queue).
 */
export function deliversCallbacks(config: GatehouseConfigFile, taskQueue: string): boolean {
  if (config.callbacks.allow.length === 0) return false;
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
  const { allowList, problems: patternProblems } = compileAllowList(callbacks.allow);
  const problems = patternProblems.map(({ index, problem }) => `/callbacks/allow/${index}: ${problem}`);
  if (allowList.enabled && callbacks.secret === undefined)
    problems.push('/callbacks/secret: callbacks.allow is set, so callbacks need a signing secret');
  if (callbacks.taskQueue !== undefined && !config.taskQueues.includes(callbacks.taskQueue))
    problems.push(
      `/callbacks/taskQueue: "${callbacks.taskQueue}" is not one of /taskQueues (${config.taskQueues.join(', ')})`,
    );
  const retry = callbackRetry(callbacks);
  if (retry.initialIntervalMs < 1) problems.push('/callbacks/initialInterval: must be more than 0');
  if (retry.maximumIntervalMs < retry.initialIntervalMs)
    problems.push('/callbacks/maxInterval: must be at least callbacks.initialInterval');
  if (retry.attemptTimeoutMs < 100 || retry.attemptTimeoutMs > 300_000)
    problems.push('/callbacks/timeout: from 100ms to 5m');
  if (retry.retryForMs < retry.attemptTimeoutMs)
    problems.push('/callbacks/retryFor: must be at least callbacks.timeout');
  for (const [name, route] of Object.entries(config.routes)) {
    if (route.callback === undefined) continue;
    const check = allowList.check(route.callback);
    if (!check.ok)
      problems.push(
        `/routes/${name}/callback: ${check.reason === 'invalid' ? `not a usable callback URL: ${check.detail}` : check.detail}`,
      );
  }
  return problems;
}
