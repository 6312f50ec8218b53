/** What a held request (`?wait=`) needs: how often to look again, and when the server closes. */
export interface HoldOptions {
  /** Between two reads. */
  readonly pollMs: number;
  /** Aborts when the server closes, so held requests never hold a shutdown up. */
  readonly signal: AbortSignal;
}

/**
 * Reads `read` until `done` holds, `waitMs` pass or the server closes; returns the last value.
 * Polling keeps it replica-agnostic: the change may be applied by a worker anywhere.
 */
export async function hold<T>(
  first: T,
  read: () => Promise<T>,
  done: (value: T) => boolean,
  waitMs: number,
  options: HoldOptions,
): Promise<T> {
  const deadline = performance.now() + waitMs;
  let value = first;
  while (!done(value) && performance.now() < deadline && !options.signal.aborted) {
    await new Promise((resolve) =>
      setTimeout(resolve, Math.min(options.pollMs, deadline - performance.now())),
    );
    value = await read();
  }
  return value;
}
