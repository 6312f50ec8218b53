// The timeout: the call's signal aborts at the deadline (and when the caller aborts), and
// the call rejects at once with a TimeoutError while the work, which saw the abort, winds
// down on its own time. Deadlines of all calls share one timer (see DeadlineQueue). For a
// stream, the deadline covers opening it; the signal then stays alive until it is closed.

import { type Scheduler, systemScheduler } from './clock.js';
import type { AbortHook, AbortSource, CallContext } from './context.js';
import { DeadlineEntry, DeadlineQueue } from './deadline-queue.js';
import { Emitter } from './emitter.js';
import { TimeoutError } from './errors.js';
import type { Next, Policy } from './policy.js';

/** Configuration of a timeout. */
export interface TimeoutOptions {
  /** Name used in errors, events and metrics; default `timeout`. */
  readonly name?: string;
  /** The deadline, from the moment the call enters the policy. */
  readonly timeoutMs: number;
  /** Clock and timers; default the process's. */
  readonly scheduler?: Scheduler;
}

/** Emitted when a call times out. */
export interface TimeoutEvent {
  /** Name of the policy. */
  readonly policy: string;
  /** The deadline that passed. */
  readonly timeoutMs: number;
}

/** One call racing its deadline. */
class TimedCall<T> extends DeadlineEntry implements AbortHook {
  settled = false;
  resolve!: (value: T) => void;
  reject!: (error: unknown) => void;
  work!: Promise<T>;

  constructor(
    readonly policy: Timeout,
    readonly ctx: CallContext,
  ) {
    super();
  }

  /** The deadline passed first. */
  expire(): void {
    if (this.settled) return;
    this.policy.expired(this);
  }

  /** The caller aborted first: stop waiting, the work sees the abort through its signal. */
  onAbort(reason: unknown, _source: AbortSource): void {
    if (this.settled) return;
    this.settled = true;
    this.policy.detach(this);
    this.ctx.addOrphan(this.work);
    this.reject(reason);
  }

  /** The work settled first with a value. */
  ok(value: T): void {
    if (this.settled) return;
    this.settled = true;
    this.policy.detach(this);
    this.resolve(value);
  }

  /** The work settled first with an error. */
  fail(error: unknown): void {
    if (this.settled) return;
    this.settled = true;
    this.policy.detach(this);
    this.reject(error);
  }
}

/** A timeout policy. */
export class Timeout implements Policy {
  /** Name used in errors, events and metrics. */
  readonly name: string;
  /** The deadline. */
  readonly timeoutMs: number;
  /** Emitted when a call times out. */
  readonly onTimeout = new Emitter<TimeoutEvent>();

  private readonly scheduler: Scheduler;
  private readonly deadlines: DeadlineQueue;

  /** @param options configuration */
  constructor(options: TimeoutOptions) {
    if (!(options.timeoutMs > 0)) throw new RangeError('timeoutMs must be positive');
    this.name = options.name ?? 'timeout';
    this.timeoutMs = options.timeoutMs;
    this.scheduler = options.scheduler ?? systemScheduler;
    this.deadlines = new DeadlineQueue(this.scheduler);
  }

  /** Calls currently racing their deadline. */
  get pending(): number {
    return this.deadlines.length;
  }

  /** @inheritdoc */
  run<T>(ctx: CallContext, next: Next<T>): Promise<T> {
    if (ctx.aborted) return Promise.reject(ctx.reason);
    const call = new TimedCall<T>(this, ctx);
    const promise = new Promise<T>((resolve, reject) => {
      call.resolve = resolve;
      call.reject = reject;
    });
    this.deadlines.push(call, this.scheduler.now() + this.timeoutMs);
    if (ctx.abortable) ctx.addHook(call);
    // Policies further in (another timeout, a bulkhead) must now hear this deadline's abort.
    ctx.timed = true;
    // Pushed before the work starts, so a synchronous abort inside it finds the call queued.
    const work = next(ctx);
    call.work = work;
    // The deadline may already have passed inside `next` (a clock driven by the work itself).
    if (call.settled && ctx.source === 'timeout') ctx.addOrphan(work);
    // Inline closures, not per-instance arrow fields: tools that keep function names (tsx,
    // esbuild keepNames) wrap each such field in a defineProperty call, ~1 µs per call.
    work.then(
      (value) => call.ok(value),
      (error: unknown) => call.fail(error),
    );
    return promise;
  }

  /** Rejects a call whose deadline passed and aborts its signal. @internal called by the call's queue entry */
  expired<T>(call: TimedCall<T>): void {
    call.settled = true;
    call.ctx.removeHook(call);
    const error = TimeoutError.fast(this.name, this.timeoutMs);
    if (call.work !== undefined) call.ctx.addOrphan(call.work);
    call.ctx.abort(error, 'timeout');
    if (this.onTimeout.active) this.onTimeout.emit({ policy: this.name, timeoutMs: this.timeoutMs });
    call.reject(error);
  }

  /** Takes a settled call off the deadline queue and its context. @internal */
  detach<T>(call: TimedCall<T>): void {
    this.deadlines.remove(call);
    call.ctx.removeHook(call);
  }
}
