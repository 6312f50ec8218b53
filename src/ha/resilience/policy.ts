// Composition: policies stacked outermost first into one executor. The chain of `next`
// functions is built once, when the stack is composed; a call allocates only its context.

import { type Scheduler, systemScheduler } from './clock.js';
import { CallContext, type CallScope } from './context.js';
import { DeadlineQueue } from './deadline-queue.js';
import { GuardedStream, type IdleBound } from './stream.js';

/** Runs the rest of the stack for a call. */
export type Next<T> = (ctx: CallContext) => Promise<T>;

/** One resilience policy: decides whether, when and how long the rest of the stack runs. */
export interface Policy {
  /**
   * Runs `next` for the call `ctx` under this policy. Must return a promise and never throw
   * synchronously; must leave `ctx` to the executor (never dispose it).
   */
  run<T>(ctx: CallContext, next: Next<T>): Promise<T>;
}

/** A function run under a stack of policies. */
export type Work<T> = (scope: CallScope) => T | PromiseLike<T>;

/** Opens a stream under a stack of policies. */
export type OpenStream<T> = (scope: CallScope) => AsyncIterable<T> | PromiseLike<AsyncIterable<T>>;

/** The innermost step of every stack: calls the function, turning a synchronous throw into a rejection. */
function invoke(ctx: CallContext): Promise<unknown> {
  try {
    const result = ctx.fn(ctx);
    return result instanceof Promise ? result : Promise.resolve(result);
  } catch (error) {
    return Promise.reject(error);
  }
}

/** Options of an {@link Executor}. */
export interface ExecutorOptions {
  /**
   * An open stream whose reader asks for nothing this long is released: its signal aborts
   * with a `StreamIdleError` and its context lets go of the caller's signal. Counted from
   * the opening and from the end of each read. Default 60 000; `Infinity` turns it off.
   */
  readonly streamIdleMs?: number;
  /** Clock and timers of the idle bound; default the process's. */
  readonly scheduler?: Scheduler;
}

/** Default idle bound of an open stream. */
export const DEFAULT_STREAM_IDLE_MS = 60_000;

/** Runs functions under a fixed stack of policies. */
export class Executor {
  private readonly head: Next<unknown>;
  private readonly streamIdleMs: number;
  private readonly scheduler: Scheduler;
  private idle: IdleBound | undefined = undefined;

  /**
   * @param policies the stack, outermost first
   * @param options the streams' idle bound and its clock
   */
  constructor(
    readonly policies: readonly Policy[],
    options: ExecutorOptions = {},
  ) {
    const idleMs = options.streamIdleMs ?? DEFAULT_STREAM_IDLE_MS;
    if (!(idleMs > 0)) throw new RangeError('streamIdleMs must be positive (Infinity turns it off)');
    this.streamIdleMs = idleMs;
    this.scheduler = options.scheduler ?? systemScheduler;
    let next: Next<unknown> = invoke;
    for (let i = policies.length - 1; i >= 0; i--) {
      const policy = policies[i]!;
      const inner = next;
      next = (ctx) => policy.run(ctx, inner);
    }
    this.head = next;
  }

  /**
   * Runs `work` under the stack. An already-aborted `signal` is refused before any policy
   * runs: the call rejects with `signal.reason` and `work` never starts.
   */
  execute<T>(work: Work<T>, signal?: AbortSignal): Promise<T> {
    if (signal === undefined) {
      // No caller signal: the context holds no listener, so there is nothing to dispose.
      return this.head(new CallContext(work, false, undefined)) as Promise<T>;
    }
    if (signal.aborted) return Promise.reject(signal.reason);
    const ctx = new CallContext(work, false, signal);
    const result = this.head(ctx) as Promise<T>;
    result.then(
      () => ctx.dispose(),
      () => ctx.dispose(),
    );
    return result;
  }

  /**
   * Opens a stream under the stack. Deadlines cover the opening only; the call's signal
   * stays alive, and linked to `signal`, until the stream ends, fails or is closed
   * (`return()`), until `signal` aborts, or until its reader has asked for nothing for
   * `streamIdleMs`; whichever comes first releases everything the call holds.
   */
  async stream<T>(open: OpenStream<T>, signal?: AbortSignal): Promise<AsyncIterableIterator<T>> {
    if (signal?.aborted) throw signal.reason;
    const ctx = new CallContext(open, true, signal);
    let iterable: AsyncIterable<T>;
    try {
      iterable = (await this.head(ctx)) as AsyncIterable<T>;
    } catch (error) {
      ctx.dispose();
      throw error;
    }
    return new GuardedStream(iterable, ctx, this.idleBound());
  }

  /** The idle bound shared by this executor's streams, built with the first stream. */
  private idleBound(): IdleBound | undefined {
    if (!Number.isFinite(this.streamIdleMs)) return undefined;
    if (this.idle === undefined) {
      const scheduler = this.scheduler;
      this.idle = {
        idleMs: this.streamIdleMs,
        deadlines: new DeadlineQueue(scheduler),
        now: () => scheduler.now(),
      };
    }
    return this.idle;
  }
}

/** Stacks `policies`, outermost first, into one executor. */
export function compose(...policies: Policy[]): Executor {
  return new Executor(policies);
}
