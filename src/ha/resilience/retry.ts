// The retry policy: runs each attempt in its own context (so an attempt's deadline does
// not abort the next one), sleeps between attempts on an injectable scheduler, and never
// starts another attempt once the call is aborted: an abort ends the sleep at once.

import { type Backoff, fullJitter } from './backoff.js';
import { type Scheduler, systemScheduler, type TimerHandle } from './clock.js';
import type { AbortHook, AbortSource, CallContext } from './context.js';
import { Emitter } from './emitter.js';
import { isBulkheadRejectedError, isCircuitOpenError, RetryExhaustedError } from './errors.js';
import type { Next, Policy } from './policy.js';

/** Configuration of a retry policy. */
export interface RetryOptions {
  /** Name used in errors, events and metrics; default `retry`. */
  readonly name?: string;
  /** Total attempts, the first included; default 3. */
  readonly maxAttempts?: number;
  /** Delays between attempts; default full jitter, base 100 ms, cap 10 s. */
  readonly backoff?: Backoff;
  /**
   * Whether the error of failed attempt `attempt` (0-based) is worth another attempt.
   * Default: every error except the refusals of a breaker or a bulkhead, which a quick
   * retry would only repeat.
   */
  readonly shouldRetry?: (error: unknown, attempt: number) => boolean;
  /** Clock and timers for the sleeps; default the process's. */
  readonly scheduler?: Scheduler;
}

/** Emitted before each backoff sleep. */
export interface RetryEvent {
  /** Name of the policy. */
  readonly policy: string;
  /** The attempt that failed (0-based). */
  readonly attempt: number;
  /** The sleep before the next attempt. */
  readonly delayMs: number;
  /** Why the attempt failed. */
  readonly error: unknown;
}

function defaultShouldRetry(error: unknown): boolean {
  return !isCircuitOpenError(error) && !isBulkheadRejectedError(error);
}

/** A backoff sleep that the call's abort ends at once. */
class Sleep implements AbortHook {
  private timer: TimerHandle | undefined;
  private resolve!: () => void;
  private reject!: (reason: unknown) => void;
  readonly done: Promise<void>;

  constructor(
    private readonly scheduler: Scheduler,
    ctx: CallContext,
    delayMs: number,
  ) {
    this.done = new Promise<void>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
    this.timer = scheduler.setTimer(() => {
      this.timer = undefined;
      ctx.removeHook(this);
      this.resolve();
    }, delayMs);
    ctx.addHook(this);
  }

  onAbort(reason: unknown, _source: AbortSource): void {
    if (this.timer === undefined) return;
    this.scheduler.clearTimer(this.timer);
    this.timer = undefined;
    this.reject(reason);
  }
}

/** A retry policy. */
export class Retry implements Policy {
  /** Name used in errors, events and metrics. */
  readonly name: string;
  /** Total attempts, the first included. */
  readonly maxAttempts: number;
  /** Emitted before each backoff sleep. */
  readonly onRetry = new Emitter<RetryEvent>();

  private readonly backoff: Backoff;
  private readonly shouldRetry: (error: unknown, attempt: number) => boolean;
  private readonly scheduler: Scheduler;

  /** @param options configuration; see {@link RetryOptions} for the defaults */
  constructor(options: RetryOptions = {}) {
    this.name = options.name ?? 'retry';
    this.maxAttempts = Math.max(1, Math.floor(options.maxAttempts ?? 3));
    this.backoff = options.backoff ?? fullJitter();
    this.shouldRetry = options.shouldRetry ?? defaultShouldRetry;
    this.scheduler = options.scheduler ?? systemScheduler;
  }

  /** @inheritdoc */
  async run<T>(ctx: CallContext, next: Next<T>): Promise<T> {
    const errors: unknown[] = [];
    let delayMs = 0;
    for (let attempt = 0; ; attempt++) {
      if (ctx.aborted) throw ctx.reason;
      const child = ctx.fork(attempt);
      let opened = false;
      try {
        const value = await next(child);
        // The attempt that opened a stream hands the stream its signal: it must keep
        // hearing the call's aborts until the stream is closed, and the executor disposes
        // the call (which unlinks this attempt with it) at that moment.
        opened = ctx.stream;
        return value;
      } catch (error) {
        errors.push(error);
        // Never another attempt once the call itself is aborted (a caller's abort, or a
        // deadline of an outer timeout): the error of this one is the answer.
        if (ctx.aborted) throw error;
        if (!this.retryable(error, attempt)) throw error;
        if (attempt + 1 >= this.maxAttempts)
          throw new RetryExhaustedError(this.name, attempt + 1, error, errors);
        delayMs = Math.max(0, this.backoff.delay(attempt, delayMs));
        if (this.onRetry.active) this.onRetry.emit({ policy: this.name, attempt, delayMs, error });
      } finally {
        if (!opened) child.dispose();
        ctx.adopt(child);
      }
      await new Sleep(this.scheduler, ctx, delayMs).done;
    }
  }

  private retryable(error: unknown, attempt: number): boolean {
    try {
      return this.shouldRetry(error, attempt);
    } catch {
      // A predicate that throws cannot vouch for another attempt.
      return false;
    }
  }
}
