// The careful user of the drill's load: every logical request is retried on a timeout, a
// connection error, a 5xx, a 429 (after its Retry-After) and a 409 IDEMPOTENCY_IN_FLIGHT,
// with the SAME Idempotency-Key and body, full-jitter backoff, at most `attempts` tries within
// `deadlineMs`. Every try is an Attempt in the history, the end a Completion.

import { setTimeout as delay } from 'node:timers/promises';
import type { DrillTime, LoadOp } from '../evidence.js';
import type { HistoryWriter } from './history.js';

/** One logical request of the load. */
export interface LoadRequest {
  readonly tenant: string;
  readonly apiKey: string;
  readonly op: LoadOp;
  readonly kind: string;
  readonly method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  readonly path: string;
  readonly body?: unknown;
  readonly resourceId?: string;
  readonly idempotencyKey?: string;
}

/** What a request ended with, for the load's own bookkeeping. */
export interface LoadAnswer {
  readonly ok: boolean;
  readonly status?: number;
  readonly body?: unknown;
}

/** Retry policy of {@link LoadClient}. */
export interface RetryPolicy {
  /** Tries per request. */
  readonly attempts: number;
  /** Deadline of one try. */
  readonly timeoutMs: number;
  /** Deadline of the whole request, retries included. */
  readonly deadlineMs: number;
  /** Cap of the backoff between tries. */
  readonly backoffCapMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = {
  attempts: 12,
  timeoutMs: 10_000,
  deadlineMs: 60_000,
  backoffCapMs: 2_000,
};

/** Reference fields of the kinds: a 422 naming one means the referenced resource went meanwhile. */
const REFERENCE_PATH = /^\/(spec\/)?(network|volume|zone|instance|attachedTo|fromSnapshot|targets)(\/|$)/;

/**
 * Whether a final answer is one a careful client accepts for `op`: any 2xx; and, since other
 * requests of the same load delete and change the same resources concurrently, a 404 (gone
 * meanwhile), a 409 (has referrers, refused action, being deleted), a 412, or a 422 that names
 * only reference fields (what it named was deleted meanwhile). Anything else (400, 401, 403, a
 * 422 of a malformed body) is the load's bug or the API's, and fails.
 */
export function acceptable(op: LoadOp, status: number, body: unknown): boolean {
  if (status >= 200 && status < 300) return true;
  if (op === 'list') return false;
  if (status === 404 || status === 409 || status === 412) return op !== 'create' || status === 409;
  if (status === 422) {
    const errors = (body as { errors?: Array<{ path?: unknown }> } | undefined)?.errors;
    return (
      Array.isArray(errors) &&
      errors.length > 0 &&
      errors.every((e) => typeof e.path === 'string' && REFERENCE_PATH.test(e.path))
    );
  }
  return false;
}

/** Every tenant named in an answer body: of the resource, the operation, each item (G7). */
export function tenantsIn(body: unknown): string[] {
  const seen = new Set<string>();
  const visit = (v: unknown) => {
    if (typeof v !== 'object' || v === null) return;
    const o = v as Record<string, unknown>;
    if (typeof o.tenant === 'string') seen.add(o.tenant);
  };
  const b = body as Record<string, unknown> | undefined;
  if (b && typeof b === 'object') {
    visit(b);
    visit(b.resource);
    visit(b.operation);
    if (Array.isArray(b.items)) for (const item of b.items) visit(item);
  }
  return [...seen].sort();
}

function failureOf(err: unknown): string {
  if (err instanceof Error) {
    if (err.name === 'TimeoutError' || err.name === 'AbortError') return 'timeout';
    const cause = (err as { cause?: { code?: unknown } }).cause;
    if (cause && typeof cause.code === 'string') return cause.code;
    return err.message.slice(0, 80);
  }
  return String(err);
}

export class LoadClient {
  #nextReq = 1;

  constructor(
    readonly baseUrl: string,
    readonly history: HistoryWriter,
    readonly now: () => DrillTime,
    readonly policy: RetryPolicy = DEFAULT_RETRY,
  ) {}

  /** Sends one logical request to its end; never throws. */
  async send(r: LoadRequest): Promise<LoadAnswer> {
    const req = this.#nextReq++;
    const started = this.now();
    this.history.write({
      type: 'invoke',
      req,
      t: started,
      tenant: r.tenant,
      op: r.op,
      kind: r.kind,
      method: r.method,
      path: r.path,
      ...(r.resourceId === undefined ? {} : { resourceId: r.resourceId }),
      ...(r.idempotencyKey === undefined ? {} : { idempotencyKey: r.idempotencyKey }),
    });
    const headers: Record<string, string> = {
      accept: 'application/json',
      authorization: `Bearer ${r.apiKey}`,
      ...(r.body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(r.idempotencyKey === undefined ? {} : { 'idempotency-key': r.idempotencyKey }),
    };
    const body = r.body === undefined ? undefined : JSON.stringify(r.body);
    let lastFailure = '';
    let lastStatus: number | undefined;
    for (let attempt = 1; ; attempt++) {
      const t = this.now();
      let retryAfterMs: number | undefined;
      try {
        const response = await fetch(new URL(r.path, this.baseUrl), {
          method: r.method,
          headers,
          ...(body === undefined ? {} : { body }),
          signal: AbortSignal.timeout(this.policy.timeoutMs),
        });
        const text = await response.text();
        let parsed: unknown;
        try {
          parsed = text === '' ? undefined : JSON.parse(text);
        } catch {
          parsed = undefined;
        }
        const status = response.status;
        const code = (parsed as { code?: unknown } | undefined)?.code;
        const retried =
          status >= 500 || status === 429 || (status === 409 && code === 'IDEMPOTENCY_IN_FLIGHT');
        this.history.write({
          type: 'attempt',
          req,
          t,
          attempt,
          status,
          ...(retried ? { failure: status === 409 ? 'in-flight' : String(status) } : {}),
          latencyMs: this.now() - t,
        });
        lastStatus = status;
        if (!retried) {
          const ok = acceptable(r.op, status, parsed);
          const b = parsed as
            | { resource?: { id?: unknown }; id?: unknown; operation?: { id?: unknown } | null }
            | undefined;
          const resourceId =
            typeof b?.resource?.id === 'string'
              ? b.resource.id
              : typeof b?.id === 'string'
                ? b.id
                : r.resourceId;
          const operationId = typeof b?.operation?.id === 'string' ? b.operation.id : undefined;
          this.history.write({
            type: 'complete',
            req,
            t: this.now(),
            outcome: ok ? 'ok' : 'fail',
            status,
            attempts: attempt,
            ...(resourceId === undefined ? {} : { resourceId }),
            ...(operationId === undefined ? {} : { operationId }),
            tenantsSeen: tenantsIn(parsed),
            ...(ok ? {} : { error: `${status} ${typeof code === 'string' ? code : ''}`.trim() }),
          });
          return { ok, status, body: parsed };
        }
        lastFailure = `${status}${typeof code === 'string' ? ` ${code}` : ''}`;
        const after = Number(response.headers.get('retry-after'));
        if (status === 429 && after > 0) retryAfterMs = after * 1000;
      } catch (err) {
        lastFailure = failureOf(err);
        lastStatus = undefined;
        this.history.write({
          type: 'attempt',
          req,
          t,
          attempt,
          failure: lastFailure,
          latencyMs: this.now() - t,
        });
      }
      const elapsed = this.now() - started;
      const pause = retryAfterMs ?? Math.random() * Math.min(this.policy.backoffCapMs, 50 * 2 ** attempt);
      if (attempt >= this.policy.attempts || elapsed + pause >= this.policy.deadlineMs) {
        this.history.write({
          type: 'complete',
          req,
          t: this.now(),
          outcome: 'fail',
          ...(lastStatus === undefined ? {} : { status: lastStatus }),
          attempts: attempt,
          ...(r.resourceId === undefined ? {} : { resourceId: r.resourceId }),
          error: `gave up after ${attempt} attempts: ${lastFailure}`,
        });
        return { ok: false, ...(lastStatus === undefined ? {} : { status: lastStatus }) };
      }
      await delay(pause);
    }
  }
}
