/**
 * A wake-up flag for loops that wait for "something happened, or a timeout, or shutdown":
 * `wake()` before `wait()` is remembered, so a notification between two waits is never lost.
 */
export class Waker {
  #pending = false;
  #resolve: (() => void) | undefined;

  /** Ends the current wait, or the next one if none is in progress. */
  wake(): void {
    this.#pending = true;
    this.#resolve?.();
  }

  /** Resolves on `wake()`, after `timeoutMs`, or when `signal` aborts, whichever comes first. */
  wait(timeoutMs: number, signal?: AbortSignal): Promise<void> {
    if (this.#pending || signal?.aborted) {
      this.#pending = false;
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        this.#resolve = undefined;
        this.#pending = false;
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      signal?.addEventListener('abort', done, { once: true });
      this.#resolve = done;
    });
  }
}

/** Waits `ms`, or less when `signal` aborts. Never rejects. */
export function delay(ms: number, signal?: AbortSignal): Promise<void> {
  return new Waker().wait(ms, signal);
}
