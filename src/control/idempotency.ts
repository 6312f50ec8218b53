// Idempotency-Key (DESIGN.md §7, after the IETF draft and Stripe): the first answer to a
// mutating request is stored per tenant and key, in the same transaction as the change, and
// replayed to every retry. Same key with another request: 422. While the first is in flight a
// retry waits for it (its claim's row lock) up to lock_timeout, then answers 409. A request
// whose process died mid-way rolled back its claim with its change: the retry runs afresh.

import { createHash } from 'node:crypto';
import type { Queryable } from '../ha/db/database.js';
import { loadText } from '../ha/db/sql-loader.js';
import { IdempotencyInFlightError, IdempotencyKeyReusedError } from './errors.js';

const sql = (name: string) => loadText(new URL(`./sql/${name}.sql`, import.meta.url));
const SQL = {
  claim: sql('claim-idempotency'),
  read: sql('read-idempotency'),
  complete: sql('complete-idempotency'),
};

/** Default retention of a stored answer: 24 h. */
export const DEFAULT_IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;

/**
 * How long a retry waits for the first request with its key (then 409): long enough for an
 * ordinary create (milliseconds), short of a client's timeout. Default 5 s.
 */
export const DEFAULT_IDEMPOTENCY_WAIT_MS = 5_000;

/** Retention and in-flight wait of the keys. */
export interface IdempotencyLimits {
  readonly ttlMs: number;
  readonly waitMs: number;
}

/** The key of one request and what identifies the request itself. */
export interface IdempotencyRequest {
  readonly key: string;
  /** See {@link fingerprintOf}. */
  readonly fingerprint: string;
}

/** An answer as the client got it. */
export interface StoredAnswer {
  readonly status: number;
  /** The JSON body, serialised once: replays send these very bytes. */
  readonly body: string;
}

/** sha256 over method, route and the body with its object keys sorted. */
export function fingerprintOf(method: string, route: string, body: unknown): string {
  return createHash('sha256')
    .update(`${method.toUpperCase()} ${route}\n${canonicalJson(body)}`)
    .digest('hex');
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** The lock_timeout a claim waits for another request's claim of its key with: `5000ms`. */
export function lockWaitOf(limits: IdempotencyLimits): string {
  return `${Math.max(1, Math.round(limits.waitMs))}ms`;
}

/** The 409 of a key whose first request is still in flight. */
export function inFlightError(key: string): IdempotencyInFlightError {
  return new IdempotencyInFlightError(`a request with Idempotency-Key "${key}" is still in flight`);
}

/** PostgreSQL's lock_not_available: the wait for the other claim ran out. */
const LOCK_NOT_AVAILABLE = '55P03';

/**
 * Claims the key inside `tx`, as the transaction's first write. Returns undefined when this
 * request is the first (store its answer with {@link completeIdempotency} before commit), or
 * the stored answer to replay.
 */
export async function claimIdempotency(
  tx: Queryable,
  tenant: string,
  request: IdempotencyRequest,
  limits: IdempotencyLimits,
): Promise<StoredAnswer | undefined> {
  try {
    const claimed = await tx.query(SQL.claim, [
      tenant,
      request.key,
      request.fingerprint,
      limits.ttlMs,
      lockWaitOf(limits),
    ]);
    if (claimed.rowCount > 0) return undefined;
  } catch (err) {
    if ((err as { code?: unknown }).code === LOCK_NOT_AVAILABLE) throw inFlightError(request.key);
    throw err;
  }
  const stored = (
    await tx.query<{ fingerprint: string; answer_status: number | null; answer_body: string | null }>(
      SQL.read,
      [tenant, request.key],
    )
  ).rows[0];
  if (!stored || stored.answer_status === null || stored.answer_body === null)
    throw inFlightError(request.key);
  if (stored.fingerprint !== request.fingerprint)
    throw new IdempotencyKeyReusedError(`Idempotency-Key "${request.key}" was used for another request`);
  return { status: stored.answer_status, body: stored.answer_body };
}

/** Stores the answer of the request that claimed the key, in the same transaction. */
export async function completeIdempotency(
  tx: Queryable,
  tenant: string,
  key: string,
  answer: StoredAnswer,
): Promise<void> {
  await tx.query(SQL.complete, [tenant, key, answer.status, answer.body]);
}
