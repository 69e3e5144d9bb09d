// Where a person goes back to after signing in (`rd`): only a path on this origin. Anything that a
// browser could read as another origin is replaced by "/": an absolute URL, a scheme, `//host` or
// `/\host` (browsers treat a backslash as a slash), control characters, or something too long.
const maxLength = 2048;

export function safeReturnPath(rd: unknown): string {
  if (typeof rd !== 'string' || rd.length === 0 || rd.length > maxLength) return '/';
  if (!rd.startsWith('/') || rd.startsWith('//') || rd.startsWith('/\\')) return '/';
  // Control characters, spaces and backslashes anywhere: a browser may strip or fold them.
  if (/[\u0000-\u0020\u007f\\]/.test(rd)) return '/';
  // The URL parser must agree that it stays on this origin.
  const origin = 'https://gatehouse.invalid';
  let parsed: URL;
  try {
    parsed = new URL(rd, origin);
  } catch {
    return '/';
  }
  if (parsed.origin !== origin) return '/';
  return `${parsed.pathname}${parsed.search}${parsed.hash}`;
}
