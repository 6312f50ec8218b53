// The client's one way to the API: JSON in and out, problem answers turned into ApiError, and
// a mutating request retried under its Idempotency-Key when the server could not answer it.

import { setTimeout as delay } from 'node:timers/promises';
import { ApiError, CliError, EXIT, type Problem } from './errors.js';
import type { Connection } from './profile.js';

/** What one request takes besides its method and path. */
export interface RequestOptions {
  readonly query?: Record<string, string | number | boolean | undefined>;
  readonly body?: unknown;
  readonly idempotencyKey?: string;
  /** How long the request may take, in ms (default 70 s: a held `?wait=` answer is up to 50 s). */
  readonly timeoutMs?: number;
}

/** Tries of a request the server answered 503 or never answered: the first and two retries. */
const TRIES = 3;

/** The API client of one command. */
export interface ApiClient {
  readonly url: string;
  request<T>(method: string, path: string, options?: RequestOptions): Promise<T>;
  /** A streaming GET (the watch API): the response, checked for an error status. */
  stream(path: string, query: RequestOptions['query'], signal: AbortSignal): Promise<Response>;
}

function urlOf(base: string, path: string, query: RequestOptions['query']): string {
  const url = new URL(base + path);
  for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
  return url.toString();
}

async function problemOf(res: Response): Promise<Problem> {
  const text = await res.text();
  try {
    const body = JSON.parse(text) as Partial<Problem>;
    if (typeof body === 'object' && body !== null) return { ...body, status: res.status };
  } catch {
    // Not JSON (a proxy's error page): the status line is all there is.
  }
  return { status: res.status, title: res.statusText, detail: text.trim().slice(0, 200) || res.statusText };
}

/** A client of the server `connection` names. */
export function createApiClient(connection: Connection): ApiClient {
  const headers = (extra: Record<string, string>) => ({
    authorization: `Bearer ${connection.apiKey}`,
    accept: 'application/json',
    ...extra,
  });
  const unreachable = (err: unknown) => {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    return new CliError(
      `cannot reach ${connection.url}: ${cause?.code ?? cause?.message ?? (err as Error).message}`,
      EXIT.failure,
      { cause: err },
    );
  };
  return {
    url: connection.url,
    async request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
      const url = urlOf(connection.url, path, options.query);
      const mutating = method !== 'GET';
      const init = {
        method,
        headers: headers({
          ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
          ...(options.idempotencyKey === undefined ? {} : { 'idempotency-key': options.idempotencyKey }),
        }),
        ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
      };
      // A GET is always safe to repeat; a mutation only under an Idempotency-Key, whose retry
      // replays the first answer instead of doing the change twice.
      const retriable = !mutating || options.idempotencyKey !== undefined;
      for (let attempt = 1; ; attempt++) {
        let res: Response;
        try {
          res = await fetch(url, { ...init, signal: AbortSignal.timeout(options.timeoutMs ?? 70_000) });
        } catch (err) {
          if (retriable && attempt < TRIES && (err as Error).name !== 'TimeoutError') {
            await delay(200 * attempt);
            continue;
          }
          if ((err as Error).name === 'TimeoutError')
            throw new CliError(`${method} ${path}: no answer from ${connection.url} in time`, EXIT.failure);
          throw unreachable(err);
        }
        if (res.status === 503 && retriable && attempt < TRIES) {
          await res.body?.cancel();
          await delay(Number(res.headers.get('retry-after') ?? '1') * 1000);
          continue;
        }
        if (!res.ok) throw new ApiError(await problemOf(res), method, path);
        const text = await res.text();
        return (text === '' ? undefined : JSON.parse(text)) as T;
      }
    },
    async stream(path, query, signal) {
      let res: Response;
      try {
        res = await fetch(urlOf(connection.url, path, query), {
          headers: headers({ accept: 'text/event-stream' }),
          signal,
        });
      } catch (err) {
        throw unreachable(err);
      }
      if (!res.ok) throw new ApiError(await problemOf(res), 'GET', path);
      return res;
    },
  };
}
