// Which database errors are the server's or the network's passing trouble, not the request's:
// a dropped or refused connection, a server shutting down or out of connection slots, a lock
// wait that ran out, a serialization failure or deadlock. A request that met one can be
// retried as it was (the API answers 503 with Retry-After; with an Idempotency-Key the retry
// gets the stored answer or runs afresh).

/** SQLSTATE classes and codes of passing trouble. */
const TRANSIENT_SQLSTATE = [
  /^08/, // connection exception
  /^57P0[123]$/, // admin_shutdown, crash_shutdown, cannot_connect_now
  /^53300$/, // too_many_connections
  /^55P03$/, // lock_not_available (a lock_timeout ran out)
  /^40001$/, // serialization_failure
  /^40P01$/, // deadlock_detected
];

/** Socket errors of the client's connection. */
const TRANSIENT_SOCKET = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH']);

/** What node-postgres throws, without a code, when its connection died or never came. */
const TRANSIENT_MESSAGES = [
  /^Connection terminated/,
  /^Client has encountered a connection error and is not queryable$/,
  /^timeout exceeded when trying to connect$/,
  /^Client was closed and is not queryable$/,
];

/** True if `err` (or its cause) is passing trouble of the database, not of the request. */
export function isTransientDatabaseError(err: unknown, depth = 0): boolean {
  if (typeof err !== 'object' || err === null || depth > 4) return false;
  const { code, message, cause } = err as { code?: unknown; message?: unknown; cause?: unknown };
  if (typeof code === 'string') {
    if (TRANSIENT_SOCKET.has(code)) return true;
    if (/^[0-9A-Z]{5}$/.test(code) && TRANSIENT_SQLSTATE.some((re) => re.test(code))) return true;
  }
  if (typeof message === 'string' && TRANSIENT_MESSAGES.some((re) => re.test(message))) return true;
  return isTransientDatabaseError(cause, depth + 1);
}
