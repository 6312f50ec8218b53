// The per-call context every policy of a stack shares: ONE lazily created AbortController
// that combines the caller's signal, the deadline and the policies' own aborts, and that
// unhooks itself from the caller's signal when the call settles.

/** What the wrapped function sees of its call. */
export interface CallScope {
  /** Aborts when the caller aborts, the deadline passes, or a policy gives up on the call. */
  readonly signal: AbortSignal;
  /** 0 for the first attempt, then 1, 2, … under a retry policy. */
  readonly attempt: number;
}

/** Who aborted a call. A caller's abort counts as neither success nor failure for a breaker. */
export type AbortSource = 'caller' | 'timeout' | 'policy';

/** Something that must learn at once when a call is aborted (a queued waiter, a backoff sleep…). */
export interface AbortHook {
  /** Called once, synchronously, when the call aborts. */
  onAbort(reason: unknown, source: AbortSource): void;
}

/** The function a stack runs, stored on the context so the stack allocates no closure per call. */
export type CallFunction = (scope: CallScope) => unknown;

/**
 * State of one call (or one attempt, under a retry) as it passes through a policy stack.
 * Policies read and abort it; only the executor and the retry policy create one.
 *
 * The life of one call, in order:
 * 1. **Create.** `Executor.execute`/`stream` makes the call's context; with a caller signal
 *    the context itself is that signal's one abort listener.
 * 2. **Hook.** A policy that waits (a timeout racing its deadline, a bulkhead waiter, a
 *    retry's backoff sleep, an open stream) registers an {@link AbortHook} with
 *    {@link addHook}, and removes it with {@link removeHook} the moment it stops waiting.
 *    A hook added to an aborted context runs at once, inside `addHook`.
 * 3. **Fork.** A retry gives each attempt a child ({@link fork}): the child is a hook of its
 *    parent and never listens to the caller's signal itself.
 * 4. **Abort** ({@link abort}; the first one wins, later ones are no-ops): `aborted`,
 *    `reason` and `source` are set, then the call's own signal fires (the work's listeners
 *    run first), then every hook runs once. Hooks run in no guaranteed order (removal
 *    reorders them) and must not throw, so no policy may rely on another's hook running
 *    before its own. A child's hook is its abort, so aborts run depth first.
 * 5. **Settle.** Each policy attaches to the promise of the step inside it before returning
 *    it outward, so the policies inside see a settled attempt first: the bulkhead reads an
 *    attempt's {@link orphans} (work a timeout stopped waiting for) before the retry moves
 *    them up with {@link adopt}, and holds its slot until they settle.
 * 6. **Dispose.** After each attempt the retry disposes the child (unless it opened a
 *    stream), then adopts its orphans. When the call settles the executor disposes the
 *    call's context; an open stream does it instead when it ends, is closed, aborts or goes
 *    idle. {@link dispose} unhooks the caller's signal and the parent and drops the hooks;
 *    it never aborts: work still holding the signal simply hears nothing more.
 */
export class CallContext implements CallScope, AbortHook {
  /** @inheritdoc */
  readonly attempt: number;
  /** True once aborted; `reason` and `source` say why and by whom. */
  aborted = false;
  /** The abort reason, once aborted. */
  reason: unknown = undefined;
  /** Who aborted, once aborted. */
  source: AbortSource | undefined = undefined;
  /**
   * Work that a policy stopped waiting for (a timed-out attempt) but that is still running.
   * A bulkhead keeps its slot until all of it settles, so its limit stays real.
   */
  orphans: Promise<unknown>[] | undefined = undefined;
  /**
   * True once a policy with a deadline runs on this context: an outer timeout can then abort
   * it, so the policies inside must hook its aborts even with no caller signal or parent.
   */
  timed = false;
  private controller: AbortController | undefined = undefined;
  private hooks: AbortHook[] | undefined = undefined;

  /**
   * @param fn the function the stack ends in
   * @param stream true when `fn` opens a stream whose life outlasts the call
   * @param callerSignal the caller's signal; the context listens to it until disposed
   * @param parent the call this attempt belongs to
   */
  constructor(
    readonly fn: CallFunction,
    readonly stream: boolean,
    private callerSignal: AbortSignal | undefined,
    private parent: CallContext | undefined = undefined,
    attempt = 0,
  ) {
    this.attempt = attempt;
    // `this` is the listener (handleEvent), so no closure is allocated per call.
    if (callerSignal !== undefined) callerSignal.addEventListener('abort', this);
    if (parent !== undefined) parent.addHook(this);
  }

  /**
   * True when something other than the policy asking can abort this call: a caller signal,
   * a parent, or a timeout further out on the same context.
   */
  get abortable(): boolean {
    return this.timed || this.callerSignal !== undefined || this.parent !== undefined;
  }

  /** The call's signal, created on first use: a call that never reads it costs no controller. */
  get signal(): AbortSignal {
    if (this.controller === undefined) {
      this.controller = new AbortController();
      if (this.aborted) this.controller.abort(this.reason);
    }
    return this.controller.signal;
  }

  /** A fresh context for one attempt of this call; it aborts when this one does. */
  fork(attempt: number): CallContext {
    return new CallContext(this.fn, this.stream, undefined, this, attempt);
  }

  /** Aborts the call: the signal fires, then every hook runs. Later calls are no-ops. */
  abort(reason: unknown, source: AbortSource): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    this.source = source;
    this.controller?.abort(reason);
    const hooks = this.hooks;
    this.hooks = undefined;
    if (hooks === undefined) return;
    for (const hook of hooks) {
      try {
        hook.onAbort(reason, source);
      } catch {
        // A hook belongs to a policy and must not throw; if one does, the others still run.
      }
    }
  }

  /** Registers `hook` to run when the call aborts (at once if it already has). */
  addHook(hook: AbortHook): void {
    if (this.aborted) {
      hook.onAbort(this.reason, this.source!);
      return;
    }
    if (this.hooks === undefined) this.hooks = [hook];
    else this.hooks.push(hook);
  }

  /** Unregisters `hook`; a no-op when it is not registered. */
  removeHook(hook: AbortHook): void {
    const hooks = this.hooks;
    if (hooks === undefined) return;
    const i = hooks.indexOf(hook);
    if (i < 0) return;
    // Swap-remove: the order of hooks does not matter, and this keeps removal O(1).
    hooks[i] = hooks[hooks.length - 1]!;
    hooks.pop();
  }

  /** Records work that is still running after a policy stopped waiting for it. */
  addOrphan(work: Promise<unknown>): void {
    if (this.orphans === undefined) this.orphans = [work];
    else this.orphans.push(work);
  }

  /** Moves the orphans of an attempt up to this call. */
  adopt(child: CallContext): void {
    if (child.orphans === undefined) return;
    for (const work of child.orphans) this.addOrphan(work);
    child.orphans = undefined;
  }

  /** A parent's abort reaches its attempts through this. */
  onAbort(reason: unknown, source: AbortSource): void {
    this.abort(reason, source);
  }

  /** Listener of the caller's signal (EventTarget calls `handleEvent` on listener objects). */
  handleEvent(): void {
    this.abort(this.callerSignal?.reason, 'caller');
  }

  /** Unhooks the context from the caller's signal and its parent. Call once the call settles. */
  dispose(): void {
    if (this.callerSignal !== undefined) {
      this.callerSignal.removeEventListener('abort', this);
      this.callerSignal = undefined;
    }
    if (this.parent !== undefined) {
      this.parent.removeHook(this);
      this.parent = undefined;
    }
    this.hooks = undefined;
  }
}
