// Composition: policies stacked outermost first into one executor. The chain of `next`
// functions is built once, when the stack is composed; a call allocates only its context.

import { CallContext, type CallScope } from './context.js';

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

/** Runs functions under a fixed stack of policies. */
export class Executor {
  private readonly head: Next<unknown>;

  /** @param policies the stack, outermost first */
  constructor(readonly policies: readonly Policy[]) {
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
   * stays alive, and linked to `signal`, until the stream ends, fails or is closed.
   */
  async stream<T>(open: OpenStream<T>, signal?: AbortSignal): Promise<AsyncIterable<T>> {
    if (signal?.aborted) throw signal.reason;
    const ctx = new CallContext(open, true, signal);
    let iterable: AsyncIterable<T>;
    try {
      iterable = (await this.head(ctx)) as AsyncIterable<T>;
    } catch (error) {
      ctx.dispose();
      throw error;
    }
    return guardStream(iterable, ctx);
  }
}

/** Stacks `policies`, outermost first, into one executor. */
export function compose(...policies: Policy[]): Executor {
  return new Executor(policies);
}

/** Wraps a stream so that the call's context is disposed when the stream finishes, fails or is closed. */
function guardStream<T>(iterable: AsyncIterable<T>, ctx: CallContext): AsyncIterable<T> {
  return {
    [Symbol.asyncIterator](): AsyncIterator<T> {
      const inner = iterable[Symbol.asyncIterator]();
      let open = true;
      const close = (): void => {
        if (!open) return;
        open = false;
        ctx.dispose();
      };
      return {
        async next(): Promise<IteratorResult<T>> {
          try {
            const step = await inner.next();
            if (step.done) close();
            return step;
          } catch (error) {
            close();
            throw error;
          }
        },
        async return(value?: unknown): Promise<IteratorResult<T>> {
          try {
            return inner.return ? await inner.return(value) : { done: true, value: undefined };
          } finally {
            close();
          }
        },
        async throw(error?: unknown): Promise<IteratorResult<T>> {
          try {
            if (inner.throw) return await inner.throw(error);
            throw error;
          } finally {
            close();
          }
        },
      };
    },
  };
}
