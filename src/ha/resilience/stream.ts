// The stream a policy stack hands back: it keeps the call's context (and so its link to the
// caller's signal) alive while the stream is open, and releases all of it on the first of
//   - the end of the stream, an error from it, or `return()` / `throw()`;
//   - the call's abort (the caller's signal, most often a client that went away);
//   - the idle bound: the reader asked for nothing for `idleMs` (a stream opened and never
//     read, or abandoned half-way without `return()`).
// Without the last two, a stream opened by a client that disconnected before its first read
// kept its listener on the caller's signal, and its contexts, for as long as that signal
// lived: 100 dropped streams left 100 listeners. A FinalizationRegistry would release them
// only when the garbage collector happens to run, which may be never on a quiet heap, and
// could not be tested without forcing a collection; the bound is deterministic and runs on
// the injected clock.

import type { AbortHook, AbortSource, CallContext } from './context.js';
import { DeadlineEntry, type DeadlineQueue } from './deadline-queue.js';
import { StreamIdleError } from './errors.js';

/** How long an open stream may go without a read, and the queue that times it. */
export interface IdleBound {
  /** The bound, in ms. */
  readonly idleMs: number;
  /** The deadlines of every stream of one executor (one duration, so a FIFO). */
  readonly deadlines: DeadlineQueue;
  /** The clock of `deadlines`. */
  now(): number;
}

const DONE: IteratorResult<never> = { done: true, value: undefined };

/** The idle deadline of one stream (a separate object: a queue entry's links are named `next`). */
class IdleDeadline extends DeadlineEntry {
  constructor(
    private readonly stream: GuardedStream<unknown>,
    readonly bound: IdleBound,
  ) {
    super();
  }

  /** Starts (or restarts) the bound. */
  arm(): void {
    if (!this.queued) this.bound.deadlines.push(this, this.bound.now() + this.bound.idleMs);
  }

  /** Stops the bound; a no-op when it is not running. */
  disarm(): void {
    this.bound.deadlines.remove(this);
  }

  expire(): void {
    this.stream.idleExpired(this.bound.idleMs);
  }
}

/**
 * One open stream: an async iterator over the source that owns the call's context.
 * It is its own iterator (like a generator), so a second `for await` continues the first.
 */
export class GuardedStream<T> implements AsyncIterableIterator<T>, AbortHook {
  private inner: AsyncIterator<T> | undefined = undefined;
  /** True until the context is released. */
  private open = true;
  /** `next()` calls in flight: while one is, the reader is waiting, not idle. */
  private reading = 0;
  /** Aborted while a read was in flight: the source is closed when that read comes back. */
  private closeAfterRead = false;
  private readonly deadline: IdleDeadline | undefined;

  /**
   * @param source what the stack's function opened
   * @param ctx the call's context; the stream disposes it once
   * @param idle the idle bound, or undefined for none
   */
  constructor(
    private readonly source: AsyncIterable<T>,
    private readonly ctx: CallContext,
    idle: IdleBound | undefined,
  ) {
    this.deadline = idle === undefined ? undefined : new IdleDeadline(this, idle);
    this.rest();
    // Last: a call already aborted releases the stream at once, which needs the fields above.
    ctx.addHook(this);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  /** The next item; after a release, the abort reason (or the end, after `return()`). */
  async next(): Promise<IteratorResult<T>> {
    if (!this.open) {
      if (this.ctx.aborted) throw this.ctx.reason;
      return DONE;
    }
    this.reading++;
    this.deadline?.disarm();
    try {
      const step = await this.iterator().next();
      if (this.closeAfterRead) {
        // The call was aborted during this read and the source answered anyway (it ignores
        // the signal): nobody reads again, so close it now and report the abort.
        this.closeAfterRead = false;
        if (!step.done) this.closeSource();
        throw this.ctx.reason;
      }
      if (step.done) this.release();
      return step;
    } catch (error) {
      this.release();
      throw error;
    } finally {
      this.reading--;
      this.rest();
    }
  }

  /** Closes the stream and releases its context. */
  async return(value?: unknown): Promise<IteratorResult<T>> {
    this.release();
    // Even a source never read is closed through its iterator: that is how a Node
    // Readable, or an HTTP body, lets go of its connection.
    const inner = this.iterator();
    return inner.return ? await inner.return(value) : DONE;
  }

  /** Passes `error` to the source and releases the context. */
  async throw(error?: unknown): Promise<IteratorResult<T>> {
    this.release();
    const inner = this.iterator();
    if (inner.throw) return await inner.throw(error);
    throw error;
  }

  /** The call aborted (caller, deadline of an outer policy, idle bound): release everything. */
  onAbort(_reason: unknown, _source: AbortSource): void {
    if (!this.open) return;
    const idle = this.reading === 0;
    this.release();
    // A read in flight ends through the aborted signal; with none, nobody will read again,
    // so close the source here (a Node Readable is destroyed by its iterator's return()).
    if (idle) this.closeSource();
    else this.closeAfterRead = true;
  }

  /** The idle bound passed. @internal called by the stream's deadline */
  idleExpired(idleMs: number): void {
    if (this.open && this.reading === 0) this.ctx.abort(new StreamIdleError(idleMs), 'policy');
  }

  private iterator(): AsyncIterator<T> {
    this.inner ??= this.source[Symbol.asyncIterator]();
    return this.inner;
  }

  /** Starts the idle bound while the stream is open and nobody reads. */
  private rest(): void {
    if (this.open && this.reading === 0) this.deadline?.arm();
  }

  private release(): void {
    if (!this.open) return;
    this.open = false;
    this.deadline?.disarm();
    this.ctx.removeHook(this);
    this.ctx.dispose();
  }

  private closeSource(): void {
    let closing: Promise<unknown> | undefined;
    try {
      closing = this.iterator().return?.();
    } catch {
      // A source that throws on close has nothing more to release.
    }
    closing?.catch(() => {});
  }
}
