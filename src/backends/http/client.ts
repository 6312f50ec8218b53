// One call to a `stratus sim` over HTTP: the request, the caller's signal, and the answer
// mapped back to what the in-process port would have returned or thrown.
//
// Calls go through undici's `request` over a keep-alive pool of the adapter's own, not
// through the global fetch: fetch is built on the same undici but wraps every call in
// WHATWG Headers, Request, Response, web streams and a transferable AbortSignal, which
// was ~15% of a worker's CPU in the end-to-end benchmark. The pool keeps fetch's defaults
// (connections unlimited, 300 s header and body timeouts, idle sockets unref'd), so only
// the cost per call changes; bench/sim.ts measures both paths in one run.

import type { Readable } from 'node:stream';
import { context, propagation } from '@opentelemetry/api';
import { type Dispatcher, Pool } from 'undici';
import { UnavailableError } from '../../core/errors/backend-errors.js';
import { backendErrorOf, isBackendErrorCode } from '../../core/errors/from-code.js';

/** Options of an HTTP client of the simulator. */
export interface SimClientOptions {
  /** Base URL, e.g. `http://127.0.0.1:7070`. */
  readonly url: string;
  /** Recorded as the caller of every destructive call that does not name one (the node id). */
  readonly caller?: string;
  /** Where requests go; default a keep-alive pool of the adapter's own to `url`'s origin. */
  readonly dispatcher?: Dispatcher;
}

/** A success of the simulator: its body, still to be read. */
export type SimResponse = Dispatcher.ResponseData['body'];

const HEADERS = {
  'content-type': 'application/json',
  accept: 'application/json, application/x-ndjson',
} as const;

/** The connection pool of one client: the adapter makes one per `createHttpBackends`. */
export function poolOf(options: SimClientOptions): Dispatcher {
  return options.dispatcher ?? new Pool(new URL(options.url).origin);
}

/** The request headers, with the active span's traceparent when a trace is recording. */
function withTraceContext(): Record<string, string> {
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  return carrier.traceparent === undefined ? HEADERS : { ...HEADERS, ...carrier };
}

/** Posts `body` to `path`; resolves with the response body when it is a success. */
export async function post(
  dispatcher: Dispatcher,
  url: string,
  path: string,
  body: unknown,
  signal: AbortSignal | undefined,
): Promise<SimResponse> {
  let response: Dispatcher.ResponseData;
  try {
    response = await dispatcher.request({
      method: 'POST',
      path,
      headers: withTraceContext(),
      body: JSON.stringify(body),
      ...(signal === undefined ? {} : { signal }),
    });
  } catch (error) {
    if (signal?.aborted) throw signal.reason;
    // Refused, reset or unreachable: the backend cannot be reached, which is what a port
    // says with Unavailable; the cause keeps the socket error.
    throw new UnavailableError(`simulator at ${url} unreachable`, { cause: error });
  }
  if (response.statusCode >= 200 && response.statusCode < 300) return response.body;
  throw await errorOf(response.statusCode, response.body);
}

/** The `result` of a JSON answer; a body that breaks off is Unavailable (or the abort). */
export async function resultOf(body: SimResponse, signal: AbortSignal | undefined): Promise<unknown> {
  let text: string;
  try {
    text = await body.text();
  } catch (error) {
    if (signal?.aborted) throw signal.reason;
    throw new UnavailableError('answer from the simulator broke', { cause: error });
  }
  return (JSON.parse(text) as { result: unknown }).result ?? undefined;
}

/** The port error an error response stands for. */
async function errorOf(status: number, body: SimResponse): Promise<Error> {
  const text = await body.text().catch(() => '');
  let problem: Record<string, unknown> = {};
  try {
    problem = JSON.parse(text) as Record<string, unknown>;
  } catch {}
  const detail = typeof problem.detail === 'string' ? problem.detail : `HTTP ${status}`;
  if (isBackendErrorCode(problem.code)) {
    return backendErrorOf(problem.code, {
      message: detail,
      ...(typeof problem.resource === 'string' ? { resource: problem.resource } : {}),
      ...(typeof problem.presented === 'number' ? { presented: problem.presented } : {}),
      ...(typeof problem.newest === 'number' ? { newest: problem.newest } : {}),
      ...(typeof problem.reason === 'string' ? { reason: problem.reason } : {}),
    });
  }
  if (status >= 500) return new UnavailableError(`simulator answered ${status}: ${detail}`);
  // A 4xx that is no backend error means this client sent what the server does not take.
  return backendErrorOf('BACKEND_INVALID_INPUT', { message: detail });
}

/** The items of an NDJSON response, until it ends or `signal` aborts. */
export async function* ndjsonItems<T>(body: Readable, signal: AbortSignal | undefined): AsyncGenerator<T> {
  body.setEncoding('utf8');
  let buffered = '';
  try {
    const chunks = body[Symbol.asyncIterator]();
    for (;;) {
      let chunk: IteratorResult<string>;
      try {
        chunk = await chunks.next();
      } catch (error) {
        if (signal?.aborted) throw signal.reason;
        throw new UnavailableError('stream from the simulator broke', { cause: error });
      }
      if (chunk.done) break;
      buffered += chunk.value;
      let nl = buffered.indexOf('\n');
      while (nl >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        if (line !== '') yield JSON.parse(line) as T;
        nl = buffered.indexOf('\n');
      }
    }
  } finally {
    // Ending early (the caller closed the iterator) closes the connection's stream.
    body.destroy();
  }
}
