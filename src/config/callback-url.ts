// Callback URLs and the patterns that allow them (src/config/callbacks.ts asks these per receiver).
// Why it works as it does: docs/callbacks.md, "Which callback URLs are refused, and how patterns match".
import picomatch from 'picomatch';

export const maxCallbackUrlLength = 2048;

export interface UrlPattern {
  scheme: 'http:' | 'https:';
  /** The exact host, or the suffix after `*.`. */
  host: string;
  wildcard: boolean;
  port: string;
  path: (pathname: string) => boolean;
}

const defaultPorts: Record<string, string> = { 'http:': '80', 'https:': '443' };
const patternShape = /^(https?):\/\/(\*\.)?(\[[0-9a-fA-F:.]+\]|[^/:*?#@\s[\]]+)(?::([0-9]{1,5}))?(\/[^#?;\s]*)$/;

function isLoopback(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127(\.[0-9]{1,3}){3}$/.test(hostname);
}

/** Why a parsed path could be read otherwise by the receiver than by the glob, or undefined. */
function pathProblem(pathname: string): string | undefined {
  if (pathname.includes(';') || /%3b/i.test(pathname)) return 'no ; in the path (path parameters)';
  if (/%(2f|5c)/i.test(pathname)) return 'no encoded / or \\ in the path';
  if (/%(2e|25)/i.test(pathname)) return 'no encoded . or % in the path';
  if (/%([01][0-9a-f]|7f)/i.test(pathname)) return 'no encoded control characters in the path';
  if (pathname.includes('//')) return 'no empty path segment (//)';
  return undefined;
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
  return pathProblem(url.pathname) ?? url;
}

/** One receiver's `url` pattern, or why it is not one. */
export function parseUrlPattern(text: string): UrlPattern | string {
  const match = patternShape.exec(text);
  if (match === null) return 'expected scheme://host[:port]/path-glob without ;, ? or # (write /** for any path)';
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
    scheme: `${scheme}:` as UrlPattern['scheme'],
    host,
    wildcard: wildcard !== undefined,
    port: port ?? defaultPorts[`${scheme}:`]!,
    path: picomatch(path, { dot: true }),
  };
}

/** Whether the pattern allows the URL's scheme, host, port and path (not its query). */
export function matchesPattern(pattern: UrlPattern, url: URL): boolean {
  if (url.protocol !== pattern.scheme || (url.port || defaultPorts[url.protocol]) !== pattern.port) return false;
  if (pattern.wildcard) {
    const label = url.hostname.slice(0, -(pattern.host.length + 1));
    if (!url.hostname.endsWith(`.${pattern.host}`) || label === '' || label.includes('.')) return false;
  } else if (url.hostname !== pattern.host) return false;
  return pattern.path(url.pathname);
}

/**
 * Why the URL's query string is not allowed by a receiver that takes `allowed` parameters, or
 * undefined. A receiver with none takes no query at all (not even a bare `?`); otherwise each
 * parameter must be one it names, at most once (a repeated name is read as the first by some
 * servers and the last by others), and `;`, which older servers take for `&`, is refused.
 */
export function queryProblem(url: URL, allowed: readonly string[]): string | undefined {
  const hasQuery = url.search !== '' || url.href.endsWith('?');
  if (!hasQuery) return undefined;
  if (allowed.length === 0) return 'takes no query string';
  const takes = `takes only the query parameters ${allowed.join(', ')}, each at most once`;
  if (url.search.includes(';') || /%3b/i.test(url.search)) return `${takes} (no ;)`;
  const seen = new Set<string>();
  for (const name of new URLSearchParams(url.search).keys()) {
    if (!allowed.includes(name) || seen.has(name)) return takes;
    seen.add(name);
  }
  return undefined;
}

/** The URL without its query, which may carry the receiver's own token, for messages and logs. */
export function describeCallbackUrl(url: URL | string): string {
  try {
    const parsed = typeof url === 'string' ? new URL(url) : url;
    return `${parsed.origin}${parsed.pathname}`.slice(0, 200);
  } catch {
    return 'the callback URL';
  }
}
