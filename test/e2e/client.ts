// A careful user of the API, as the end-to-end test drives it: requests spread over every API
// replica in turn; a connection error, a timeout, a 5xx or a 409 IDEMPOTENCY_IN_FLIGHT is
// retried against the next replica with the SAME Idempotency-Key (and the same body), with
// full-jitter backoff. Every attempt is recorded, so the test can say what the retries met.

import { setTimeout as backoff } from 'node:timers/promises';

/** Why an attempt did not give the request its answer. */
export type AttemptFailure = 'connection' | 'timeout' | 'server-error' | 'in-flight' | 'rate-limited';

/** One attempt of one request. */
export interface Attempt {
  readonly replica: number;
  /** When it was sent (ms since the epoch). */
  readonly startedAt: number;
  /** The answer's status, when one came. */
  readonly status?: number;
  /** Set when the attempt is retried. */
  readonly failure?: AttemptFailure;
  /** `Idempotent-Replayed: true` on the answer. */
  readonly replayed: boolean;
  /** A 429's `Retry-After`, in ms. */
  readonly retryAfterMs?: number;
}

/** One request, with every attempt it took. */
export interface RequestRecord {
  readonly method: string;
  readonly path: string;
  readonly idempotencyKey: string | undefined;
  readonly attempts: Attempt[];
  /** The answer the request ended with; undefined when every attempt failed. */
  answer?: ApiAnswer;
}

/** An answer the client accepted (any status that is not retried). */
export interface ApiAnswer {
  readonly status: number;
  readonly body: unknown;
  readonly replayed: boolean;
  readonly replica: number;
}

/** Options of {@link CarefulClient}. */
export interface ClientOptions {
  /** Attempts per request before it is given up. Default 8. */
  readonly attempts?: number;
  /** Deadline of one attempt. Default 15 s (a loaded two-core machine). */
  readonly timeoutMs?: number;
  /** Cap of the backoff between attempts. Default 1 s. */
  readonly backoffCapMs?: number;
  /** Sent as `Authorization: Bearer <key>` with every request. */
  readonly apiKey?: string;
}

/** The headers of every request, built in this one place (the API key included). */
export function requestHeaders(options: {
  apiKey?: string;
  idempotencyKey?: string;
  json: boolean;
}): Record<string, string> {
  return {
    accept: 'application/json',
    ...(options.apiKey === undefined ? {} : { authorization: `Bearer ${options.apiKey}` }),
    ...(options.json ? { 'content-type': 'application/json' } : {}),
    ...(options.idempotencyKey === undefined ? {} : { 'idempotency-key': options.idempotencyKey }),
  };
}

/** Whether `error` (from fetch) is a timeout of the attempt rather than a failed connection. */
function isTimeout(error: unknown): boolean {
  return error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
}

/** Spreads requests over `urls` and retries them as a careful user would. */
export class CarefulClient {
  /** Every request made, in the order they were started. */
  readonly requests: RequestRecord[] = [];
  /** Attempts waiting for an answer, per replica. */
  readonly inFlight: number[];
  /** When each attempt waiting for an answer started, per replica. */
  readonly #startedInFlight: Array<Set<{ readonly at: number }>>;
  readonly #attempts: number;
  readonly #timeoutMs: number;
  readonly #backoffCapMs: number;
  readonly #apiKey: string | undefined;
  #next = 0;

  /** @param urls base URLs of the API replicas */
  constructor(
    readonly urls: readonly string[],
    options: ClientOptions = {},
  ) {
    this.inFlight = urls.map(() => 0);
    this.#startedInFlight = urls.map(() => new Set());
    this.#attempts = options.attempts ?? 8;
    this.#timeoutMs = options.timeoutMs ?? 15_000;
    this.#backoffCapMs = options.backoffCapMs ?? 1_000;
    this.#apiKey = options.apiKey;
  }

  /**
   * Sends one request, retried as the class header says; resolves with the answer that ended it
   * (a 4xx included), rejects when every attempt failed.
   */
  /** Attempts to `replica` started at or after `since` (ms since the epoch) and not answered yet. */
  inFlightSince(replica: number, since: number): number {
    let n = 0;
    for (const a of this.#startedInFlight[replica]!) if (a.at >= since) n++;
    return n;
  }

  async send(
    method: string,
    path: string,
    options: { body?: unknown; idempotencyKey?: string } = {},
  ): Promise<ApiAnswer> {
    const record: RequestRecord = { method, path, idempotencyKey: options.idempotencyKey, attempts: [] };
    this.requests.push(record);
    const json = options.body !== undefined;
    const headers = requestHeaders({
      json,
      ...(this.#apiKey === undefined ? {} : { apiKey: this.#apiKey }),
      ...(options.idempotencyKey ? { idempotencyKey: options.idempotencyKey } : {}),
    });
    const body = json ? JSON.stringify(options.body) : undefined;
    let replica = this.#next++ % this.urls.length;
    for (let attempt = 1; ; attempt++) {
      const result = await this.#attempt(replica, method, path, headers, body);
      record.attempts.push(result.attempt);
      if (result.answer) {
        record.answer = result.answer;
        return result.answer;
      }
      if (attempt >= this.#attempts) {
        throw new Error(
          `${method} ${path} failed ${attempt} times: ${record.attempts.map((a) => a.failure).join(', ')}`,
        );
      }
      // As the server asks after a 429; otherwise full jitter up to an exponentially growing cap.
      await backoff(
        result.attempt.retryAfterMs ?? Math.random() * Math.min(this.#backoffCapMs, 50 * 2 ** attempt),
      );
      replica = (replica + 1) % this.urls.length;
    }
  }

  async #attempt(
    replica: number,
    method: string,
    path: string,
    headers: Record<string, string>,
    body: string | undefined,
  ): Promise<{ attempt: Attempt; answer?: ApiAnswer }> {
    this.inFlight[replica]!++;
    const startedAt = Date.now();
    const started = { at: startedAt };
    this.#startedInFlight[replica]!.add(started);
    try {
      const response = await fetch(new URL(path, this.urls[replica]), {
        method,
        headers,
        ...(body === undefined ? {} : { body }),
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
      const text = await response.text();
      const parsed: unknown = text === '' ? undefined : JSON.parse(text);
      const replayed = response.headers.get('idempotent-replayed') === 'true';
      const code = (parsed as { code?: unknown } | undefined)?.code;
      const failure: AttemptFailure | undefined =
        response.status >= 500
          ? 'server-error'
          : response.status === 409 && code === 'IDEMPOTENCY_IN_FLIGHT'
            ? 'in-flight'
            : response.status === 429
              ? 'rate-limited'
              : undefined;
      const retryAfter = Number(response.headers.get('retry-after'));
      const attempt: Attempt = {
        replica,
        startedAt,
        status: response.status,
        replayed,
        ...(failure ? { failure } : {}),
        ...(failure === 'rate-limited' && retryAfter > 0 ? { retryAfterMs: retryAfter * 1000 } : {}),
      };
      if (failure) return { attempt };
      return { attempt, answer: { status: response.status, body: parsed, replayed, replica } };
    } catch (error) {
      return {
        attempt: {
          replica,
          startedAt,
          replayed: false,
          failure: isTimeout(error) ? 'timeout' : 'connection',
        },
      };
    } finally {
      this.inFlight[replica]!--;
      this.#startedInFlight[replica]!.delete(started);
    }
  }
}
