// What a PostgreSQL failure means and how to say it without the connection string: used by the
// delivery log and by the worker's usage ledger, whose connection strings may hold a password.
// node-postgres builds its messages from the server's answer or from Node's socket errors, and
// neither carries the URL; a description here is only the SQLSTATE or system code and a bounded
// message.

/** Node's codes for a server that cannot be reached or a connection that broke. */
const unreachableCodes = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
]);
/** node-postgres's own errors for a connection that broke or never came. */
const unreachableMessages =
  /^(Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Client was closed and is not queryable|Query read timeout)/;

function errorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null || !('code' in error)) return undefined;
  return typeof error.code === 'string' ? error.code : undefined;
}

/** PostgreSQL's five-character SQLSTATE, when the error came from the server. */
export function sqlState(error: unknown): string | undefined {
  const code = errorCode(error);
  return code !== undefined && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

/** Refused for a value (data exception, class 22) or a constraint (class 23): not the connection. */
export function isDataError(error: unknown): boolean {
  return /^2[23]/.test(sqlState(error) ?? '');
}

/**
 * Whether the database cannot be reached or cannot serve us now: the connection was refused,
 * broke or timed out; the server is starting or shutting down (57P0x), out of connections or
 * resources (class 53), cancelled the statement at its timeout (57014), rolled the transaction
 * back for a conflict or a deadlock (class 40), failed on its own side (class 58: an I/O error),
 * refused the connection (class 08, 28: a rotated credential) or has no such database (3D000).
 * Each is worth trying again later; what is refused for its data or its SQL is not.
 */
export function isUnreachable(error: unknown): boolean {
  const code = errorCode(error);
  if (code !== undefined && unreachableCodes.has(code)) return true;
  const state = sqlState(error);
  if (state !== undefined) return /^(08|28|40|53|57P0|58)/.test(state) || state === '57014' || state === '3D000';
  if (error instanceof AggregateError) return error.errors.some(isUnreachable);
  return error instanceof Error && unreachableMessages.test(error.message);
}

/** A short description of a failure, without the connection string. */
export function describePostgresError(error: unknown): string {
  const state = sqlState(error);
  const message = error instanceof Error ? error.message.slice(0, 200) : 'unknown error';
  if (state !== undefined) return `${state} ${message}`;
  const code = errorCode(error);
  if (code !== undefined && unreachableCodes.has(code)) return code;
  if (error instanceof AggregateError) return error.errors.map(describePostgresError).join(', ').slice(0, 200);
  return message;
}

/**
 * Listens for `error` on the pool and hands each to `onLost` as a short description. node-postgres
 * emits it when an idle connection breaks (the server restarted or dropped it, the network went);
 * with no listener that is an uncaught exception that ends the process. The pool has already
 * dropped the connection by then and opens a new one on next use. Returns the reporter, for the
 * `error` events of connections the caller holds checked out. A listener that throws is ignored:
 * it must not take down the pool.
 */
export function reportLostConnections(
  pool: { on(event: 'error', listener: (error: Error) => void): unknown },
  onLost: ((error: Error) => void) | undefined,
): (error: unknown) => void {
  const report = (error: unknown) => {
    try {
      onLost?.(new Error(describePostgresError(error)));
    } catch {
      // ignored: see above
    }
  };
  pool.on('error', report);
  return report;
}
