/**
 * What a job key, a kind and a message body may be. A job key is the primary key of the
 * ledger and a unique key of the outbox (btree indexes), and a parameter of batched
 * statements: a key PostgreSQL cannot store fails the WHOLE statement it travels in, and
 * with it every job batched alongside. So keys are checked where they enter (enqueue) and
 * where they come back (receive), and a bad one never reaches a batch.
 */

/**
 * Longest key, in UTF-8 bytes. A btree entry holds at most 2,704 bytes (a third of an 8 kB
 * page, minus headers): a longer key cannot be inserted at all. 1,024 leaves room to spare
 * and is far longer than any real key (`reconcile/<kind>/<id>/<generation>` is ~60).
 */
export const MAX_JOB_KEY_BYTES = 1_024;
/** Longest kind, in UTF-8 bytes. */
export const MAX_JOB_KIND_BYTES = 128;
/**
 * Largest message body, in UTF-8 bytes. A job names its work; it does not carry data. 256 kB
 * keeps one receive of 100 messages under 26 MB of memory.
 */
export const MAX_BODY_BYTES = 256 * 1024;

/** Index of the first C0 control (NUL first of all: PostgreSQL text cannot hold it) or DEL, or -1. */
function firstControl(value: string): number {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return i;
  }
  return -1;
}
/** A UTF-16 surrogate without its pair: not encodable as UTF-8, so it would be silently replaced. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Why `value` cannot be a job key (or kind, per `what`), or undefined when it can. */
export function identifierProblem(value: unknown, what: 'key' | 'kind'): string | undefined {
  const max = what === 'key' ? MAX_JOB_KEY_BYTES : MAX_JOB_KIND_BYTES;
  if (typeof value !== 'string' || value.length === 0) return `job ${what} must be a non-empty string`;
  const bytes = Buffer.byteLength(value, 'utf8');
  if (bytes > max) return `job ${what} is ${bytes} bytes long (at most ${max})`;
  const control = firstControl(value);
  if (control >= 0) {
    const code = value.charCodeAt(control).toString(16).padStart(4, '0');
    return `job ${what} contains the control character U+${code} at index ${control}`;
  }
  const lone = LONE_SURROGATE.exec(value);
  if (lone) return `job ${what} contains an unpaired UTF-16 surrogate at index ${lone.index}`;
  return undefined;
}

/** Why `body` cannot be a message body, or undefined when it can. */
export function bodyProblem(body: string): string | undefined {
  const bytes = Buffer.byteLength(body, 'utf8');
  if (bytes > MAX_BODY_BYTES) return `body is ${bytes} bytes long (at most ${MAX_BODY_BYTES})`;
  return undefined;
}
