// One call to a `stratus sim` over HTTP: the request, the caller's signal, and the answer
// mapped back to what the in-process port would have returned or thrown. Node's global
// fetch keeps connections alive in a per-origin pool, so calls reuse sockets without an
// agent of our own.

import { UnavailableError } from '../../core/errors/backend-errors.js';
import { backendErrorOf, isBackendErrorCode } from '../../core/errors/from-code.js';

/** Options of an HTTP client of the simulator. */
export interface SimClientOptions {
  /** Base URL, e.g. `http://127.0.0.1:7070`. */
  readonly url: string;
  /** Recorded as the caller of every destructive call that does not name one (the node id). */
  readonly caller?: string;
  /** The fetch to use; default the global one. */
  readonly fetch?: typeof fetch;
}

/** Posts `body` to `path`; resolves with the response when it is a success. */
export async function post(
  options: SimClientOptions,
  path: string,
  body: unknown,
  signal: AbortSignal | undefined,
): Promise<Response> {
  const doFetch = options.fetch ?? fetch;
  let response: Response;
  try {
    response = await doFetch(new URL(path, options.url), {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, application/x-ndjson' },
      body: JSON.stringify(body),
      ...(signal === undefined ? {} : { signal }),
    });
  } catch (error) {
    if (signal?.aborted) throw signal.reason;
    // Refused, reset or unreachable: the backend cannot be reached, which is what a port
    // says with Unavailable; the cause keeps the socket error.
    throw new UnavailableError(`simulator at ${options.url} unreachable`, { cause: error });
  }
  if (response.ok) return response;
  throw await errorOf(response);
}

/** The port error an error response stands for. */
async function errorOf(response: Response): Promise<Error> {
  const text = await response.text().catch(() => '');
  let problem: Record<string, unknown> = {};
  try {
    problem = JSON.parse(text) as Record<string, unknown>;
  } catch {}
  const detail = typeof problem.detail === 'string' ? problem.detail : `HTTP ${response.status}`;
  if (isBackendErrorCode(problem.code)) {
    return backendErrorOf(problem.code, {
      message: detail,
      ...(typeof problem.resource === 'string' ? { resource: problem.resource } : {}),
      ...(typeof problem.presented === 'number' ? { presented: problem.presented } : {}),
      ...(typeof problem.newest === 'number' ? { newest: problem.newest } : {}),
      ...(typeof problem.reason === 'string' ? { reason: problem.reason } : {}),
    });
  }
  if (response.status >= 500) return new UnavailableError(`simulator answered ${response.status}: ${detail}`);
  // A 4xx that is no backend error means this client sent what the server does not take.
  return backendErrorOf('BACKEND_INVALID_INPUT', { message: detail });
}

/** The items of an NDJSON response, until it ends or `signal` aborts. */
export async function* ndjsonItems<T>(
  response: Response,
  signal: AbortSignal | undefined,
): AsyncGenerator<T> {
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let buffered = '';
  try {
    for (;;) {
      let chunk: Awaited<ReturnType<typeof reader.read>>;
      try {
        chunk = await reader.read();
      } catch (error) {
        if (signal?.aborted) throw signal.reason;
        throw new UnavailableError('stream from the simulator broke', { cause: error });
      }
      if (chunk.done) break;
      buffered += decoder.decode(chunk.value, { stream: true });
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
    await reader.cancel().catch(() => {});
  }
}
