// The bulkhead: at most `maxConcurrent` calls run at once and at most `maxQueued` wait.
// A waiter leaves the queue the moment its call aborts (not when it reaches the head),
// queue timeouts share one timer, and a slot is held until the work it runs has really
// settled, even when a timeout gave up on that work earlier, so the limit is real.

import { type Scheduler, systemScheduler } from './clock.js';
import type { AbortHook, AbortSource, CallContext } from './context.js';
import { DeadlineEntry, DeadlineQueue } from './deadline-queue.js';
import { Emitter } from './emitter.js';
import { BulkheadRejectedError, type BulkheadRejection } from './errors.js';
import type { Next, Policy } from './policy.js';

/** Configuration of a bulkhead. */
export interface BulkheadOptions {
  /** Name used in errors, events and metrics; default `bulkhead`. */
  readonly name?: string;
  /** Calls allowed to run at once. */
  readonly maxConcurrent: number;
  /** Calls allowed to wait for a slot; default 0 (refuse at once when full). */
  readonly maxQueued?: number;
  /** How long a call may wait for a slot; default: as long as it takes. */
  readonly queueTimeoutMs?: number;
  /** Clock and timers; default the process's. */
  readonly scheduler?: Scheduler;
}

/** Emitted when the bulkhead refuses a call. */
export interface BulkheadRejectionEvent {
  /** Name of the bulkhead. */
  readonly bulkhead: string;
  /** Why. */
  readonly reason: BulkheadRejection;
}

/** A plain view of a bulkhead. */
export interface BulkheadSnapshot {
  /** Name of the bulkhead. */
  readonly name: string;
  /** Slots in use (including work a timeout gave up on that has not settled yet). */
  readonly inFlight: number;
  /** Calls waiting for a slot. */
  readonly queued: number;
  /** The concurrency limit. */
  readonly maxConcurrent: number;
  /** The queue limit. */
  readonly maxQueued: number;
}

/** A call waiting for a slot. */
class Waiter extends DeadlineEntry implements AbortHook {
  resolve!: (value: unknown) => void;
  reject!: (error: unknown) => void;
  /** Next waiter in FIFO order (a plain list; the deadline links belong to the timer queue). */
  after: Waiter | null = null;
  before: Waiter | null = null;
  waiting = true;

  constructor(
    readonly bulkhead: Bulkhead,
    readonly ctx: CallContext,
    readonly rest: Next<unknown>,
  ) {
    super();
  }

  /** Queue timeout. */
  expire(): void {
    this.bulkhead.refuseWaiter(this, 'queue-timeout', undefined);
  }

  /** The call aborted while waiting. */
  onAbort(reason: unknown, _source: AbortSource): void {
    this.bulkhead.refuseWaiter(this, 'aborted', reason);
  }
}

/** A bulkhead policy. */
export class Bulkhead implements Policy {
  /** Name used in errors, events and metrics. */
  readonly name: string;
  /** Calls allowed to run at once. */
  readonly maxConcurrent: number;
  /** Calls allowed to wait. */
  readonly maxQueued: number;
  /** Emitted when a call is refused. */
  readonly onRejected = new Emitter<BulkheadRejectionEvent>();

  private readonly queueTimeoutMs: number;
  private readonly scheduler: Scheduler;
  private deadlines: DeadlineQueue | undefined;
  private active = 0;
  private waiting = 0;
  private first: Waiter | null = null;
  private last: Waiter | null = null;

  /** @param options configuration */
  constructor(options: BulkheadOptions) {
    if (!Number.isInteger(options.maxConcurrent) || options.maxConcurrent < 1) {
      throw new RangeError('maxConcurrent must be a positive integer');
    }
    this.name = options.name ?? 'bulkhead';
    this.maxConcurrent = options.maxConcurrent;
    this.maxQueued = Math.max(0, options.maxQueued ?? 0);
    this.queueTimeoutMs = options.queueTimeoutMs ?? Number.POSITIVE_INFINITY;
    this.scheduler = options.scheduler ?? systemScheduler;
  }

  /** Slots in use. */
  get inFlight(): number {
    return this.active;
  }

  /** Calls waiting for a slot. */
  get queued(): number {
    return this.waiting;
  }

  /** A plain view of the bulkhead. */
  snapshot(): BulkheadSnapshot {
    return {
      name: this.name,
      inFlight: this.active,
      queued: this.waiting,
      maxConcurrent: this.maxConcurrent,
      maxQueued: this.maxQueued,
    };
  }

  /** @inheritdoc */
  run<T>(ctx: CallContext, next: Next<T>): Promise<T> {
    if (ctx.aborted) return this.refuse('aborted', ctx.reason);
    if (this.active < this.maxConcurrent) {
      this.active++;
      return this.start(ctx, next);
    }
    if (this.waiting >= this.maxQueued) return this.refuse('full', undefined);
    return this.enqueue(ctx, next);
  }

  /** Removes a waiter that timed out or aborted and rejects it. @internal called by the waiter */
  refuseWaiter(waiter: Waiter, reason: BulkheadRejection, cause: unknown): void {
    if (!waiter.waiting) return;
    this.unlink(waiter);
    this.emitRejected(reason);
    waiter.reject(BulkheadRejectedError.fast(this.name, reason, cause));
  }

  private start<T>(ctx: CallContext, next: Next<T>): Promise<T> {
    let result: Promise<T>;
    try {
      result = next(ctx);
    } catch (error) {
      // `next` must not throw; if it does, the slot must still come back.
      result = Promise.reject(error);
    }
    result.then(
      () => this.release(ctx),
      () => this.release(ctx),
    );
    return result;
  }

  private release(ctx: CallContext): void {
    const orphans = ctx.orphans;
    if (orphans !== undefined) {
      // A timeout gave up on this work, but it still runs: keep the slot until it settles.
      ctx.orphans = undefined;
      const free = (): void => this.release(ctx);
      Promise.allSettled(orphans).then(free, free);
      return;
    }
    const waiter = this.first;
    if (waiter === null) {
      this.active--;
      return;
    }
    // Hand the slot straight to the oldest waiter: `active` does not change.
    this.unlink(waiter);
    this.start(waiter.ctx, waiter.rest).then(waiter.resolve, waiter.reject);
  }

  private enqueue<T>(ctx: CallContext, next: Next<T>): Promise<T> {
    const w = new Waiter(this, ctx, next);
    const promise = new Promise<unknown>((resolve, reject) => {
      w.resolve = resolve;
      w.reject = reject;
    });
    w.before = this.last;
    if (this.last === null) this.first = w;
    else this.last.after = w;
    this.last = w;
    this.waiting++;
    if (Number.isFinite(this.queueTimeoutMs)) {
      this.deadlines ??= new DeadlineQueue(this.scheduler);
      this.deadlines.push(w, this.scheduler.now() + this.queueTimeoutMs);
    }
    ctx.addHook(w);
    // The waiter settles with whatever `next` yields for this call, which is a T.
    return promise as Promise<T>;
  }

  private unlink(waiter: Waiter): void {
    waiter.waiting = false;
    this.waiting--;
    if (waiter.before === null) this.first = waiter.after;
    else waiter.before.after = waiter.after;
    if (waiter.after === null) this.last = waiter.before;
    else waiter.after.before = waiter.before;
    waiter.before = null;
    waiter.after = null;
    this.deadlines?.remove(waiter);
    waiter.ctx.removeHook(waiter);
  }

  private refuse<T>(reason: BulkheadRejection, cause: unknown): Promise<T> {
    this.emitRejected(reason);
    return Promise.reject(BulkheadRejectedError.fast(this.name, reason, cause));
  }

  private emitRejected(reason: BulkheadRejection): void {
    if (this.onRejected.active) this.onRejected.emit({ bulkhead: this.name, reason });
  }
}
