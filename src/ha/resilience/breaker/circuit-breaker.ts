// The circuit breaker: closed → open → half-open → closed, with no timer of its own.
// Every transition happens lazily, when a call arrives or settles, on an injectable
// monotonic clock. Every permit carries the state period it was granted in, so a result
// from an earlier period updates the lifetime totals but never moves the state or enters
// the failure-rate window. State changes are announced only once the state they lead to is
// complete (the probe that caused them granted), so a listener that calls the breaker back
// meets a consistent breaker: single flight holds whatever listeners do.

import { type Clock, systemScheduler } from '../clock.js';
import type { CallContext } from '../context.js';
import { Emitter } from '../emitter.js';
import { CircuitOpenError, isBulkheadRejectedError, isCircuitOpenError } from '../errors.js';
import type { Next, Policy } from '../policy.js';
import type {
  BreakerRejection,
  BreakerState,
  CircuitBreakerOptions,
  Outcome,
  StateChange,
  TransitionReason,
} from './options.js';
import { CountWindow, type OutcomeWindow, TimeWindow } from './windows.js';

/** A permission to make one call, tagged with the state period it was granted in. */
export class BreakerPermit {
  /**
   * @param period the state period the permit belongs to
   * @param startedAt monotonic start time (0 when nothing needs it)
   * @param probe true for a half-open probe
   */
  constructor(
    readonly period: number,
    readonly startedAt: number,
    readonly probe: boolean,
  ) {}
}

/** A cheap, plain view of a breaker for metrics, health checks and the API. */
export interface BreakerSnapshot {
  /** Name of the breaker. */
  readonly name: string;
  /** Current state (as of the last call; transitions are lazy). */
  readonly state: BreakerState;
  /** Current state period; grows by one on every transition. */
  readonly period: number;
  /** Trips since the breaker last closed (drives the open-duration growth). */
  readonly trips: number;
  /** Time until a call may be admitted; 0 when one would be now, `Infinity` when isolated. */
  readonly retryAfterMs: number;
  /** Consecutive failures in the closed state. */
  readonly consecutiveFailures: number;
  /** Calls and failures in the failure-rate window (zero without the rule). */
  readonly window: { readonly calls: number; readonly failures: number };
  /** Probes in flight and successes so far, in half-open. */
  readonly halfOpen: { readonly probes: number; readonly successes: number };
  /** Lifetime totals by outcome; `late` counts results from an earlier period. */
  readonly totals: {
    readonly successes: number;
    readonly failures: number;
    readonly ignored: number;
    readonly rejected: number;
    readonly late: number;
  };
}

const SUCCESS = 0;
const FAILURE = 1;
const IGNORED = 2;
type OutcomeCode = typeof SUCCESS | typeof FAILURE | typeof IGNORED;
const OUTCOME_CODES: Record<Outcome, OutcomeCode> = { success: SUCCESS, failure: FAILURE, ignored: IGNORED };

/** Default classifier: another policy's refusal says nothing about the backend. */
function defaultClassify(error: unknown): 'failure' | 'ignored' {
  return isCircuitOpenError(error) || isBulkheadRejectedError(error) ? 'ignored' : 'failure';
}

/** A circuit breaker policy. */
export class CircuitBreaker implements Policy {
  /** Name used in errors, events and metrics. */
  readonly name: string;
  /** Emitted synchronously on every state change. */
  readonly onStateChange = new Emitter<StateChange>();
  /** Emitted when a call is refused. */
  readonly onRejected = new Emitter<BreakerRejection>();

  private readonly clock: Clock;
  private readonly consecutiveLimit: number;
  private readonly window: OutcomeWindow | undefined;
  private readonly rateThreshold: number;
  private readonly minimumCalls: number;
  private readonly slowCallMs: number;
  private readonly openMs: number;
  private readonly openMultiplier: number;
  private readonly openMaxMs: number;
  private readonly permits: number;
  private readonly successesToClose: number;
  private readonly probeTimeoutMs: number;
  private readonly classifier: (error: unknown) => 'failure' | 'ignored';
  /** The closed path reads the clock only when a rule needs call times. */
  private readonly timesCalls: boolean;

  private current: BreakerState = 'closed';
  private period = 0;
  private trips = 0;
  private openUntil = 0;
  private consecutive = 0;
  private probes: BreakerPermit[] = [];
  private probeSuccesses = 0;
  private lastRetryAfterMs = 0;
  private successes = 0;
  private failures = 0;
  private ignored = 0;
  private rejected = 0;
  private late = 0;
  /** State changes made but not yet announced (see {@link announce}). */
  private pending: StateChange[] | undefined = undefined;
  /** True while {@link announce} runs listeners; a nested call leaves the queue to it. */
  private announcing = false;

  /** @param options configuration; see {@link CircuitBreakerOptions} for the defaults */
  constructor(options: CircuitBreakerOptions = {}) {
    this.name = options.name ?? 'breaker';
    this.clock = options.clock ?? systemScheduler;
    this.consecutiveLimit = options.consecutiveFailures ?? 5;
    const rate = options.failureRate;
    if (rate !== undefined) {
      if (!(rate.threshold > 0 && rate.threshold <= 1))
        throw new RangeError('failureRate.threshold must be in (0, 1]');
      this.window =
        rate.window.type === 'count'
          ? new CountWindow(rate.window.size)
          : new TimeWindow(rate.window.sizeMs, rate.window.buckets);
    }
    this.rateThreshold = rate?.threshold ?? 1;
    this.minimumCalls = Math.max(1, rate?.minimumCalls ?? 1);
    this.slowCallMs = options.slowCallMs ?? 0;
    this.openMs = options.openMs ?? 30_000;
    this.openMultiplier = options.openBackoff ? (options.openBackoff.multiplier ?? 2) : 1;
    this.openMaxMs = options.openBackoff?.maxMs ?? this.openMs;
    this.permits = Math.max(1, options.halfOpen?.permits ?? 1);
    this.successesToClose = Math.max(1, options.halfOpen?.successesToClose ?? 2);
    this.probeTimeoutMs = options.halfOpen?.probeTimeoutMs ?? 30_000;
    this.classifier = options.classify ?? defaultClassify;
    this.timesCalls = this.slowCallMs > 0 || rate?.window.type === 'time';
  }

  /** The state as of the last call or result; transitions are lazy, so an elapsed open period shows as `open`. */
  get state(): BreakerState {
    return this.current;
  }

  /** @inheritdoc */
  run<T>(ctx: CallContext, next: Next<T>): Promise<T> {
    const permit = this.tryAcquire();
    if (permit === null) return Promise.reject(CircuitOpenError.fast(this.name, this.lastRetryAfterMs));
    let result: Promise<T>;
    try {
      result = next(ctx);
    } catch (error) {
      // `next` must not throw, but a permit that is never handed back would hold a
      // half-open breaker until its probe deadline: count the throw as the call's result.
      result = Promise.reject(error);
    }
    result.then(
      () => this.release(permit, SUCCESS),
      (error: unknown) => this.release(permit, ctx.source === 'caller' ? IGNORED : this.classify(error)),
    );
    return result;
  }

  /**
   * Asks for a permit to make one call; `null` means refused (see `retryAfterMs`). Every
   * permit must be handed back once through {@link record}. `run` does this for you.
   */
  tryAcquire(): BreakerPermit | null {
    switch (this.current) {
      case 'closed':
        return new BreakerPermit(this.period, this.timesCalls ? this.clock.now() : 0, false);
      case 'open': {
        const now = this.clock.now();
        if (now < this.openUntil) return this.refuse(this.openUntil - now);
        this.transition('half-open', 'open-elapsed', now);
        // Granted before the change is announced: a listener that calls back finds the
        // probe slot taken, instead of taking it ahead of the caller that opened it.
        const probe = this.grantProbe(now);
        this.announce();
        return probe;
      }
      case 'half-open': {
        const now = this.clock.now();
        const oldest = this.probes[0];
        if (oldest !== undefined && now - oldest.startedAt >= this.probeTimeoutMs) {
          this.trip('probe-timeout', now);
          return this.refuse(this.openUntil - now);
        }
        if (this.probes.length < this.permits) return this.grantProbe(now);
        // Surplus callers fail fast instead of queueing behind the probe.
        return this.refuse(oldest === undefined ? 0 : oldest.startedAt + this.probeTimeoutMs - now);
      }
      default:
        return this.refuse(Number.POSITIVE_INFINITY);
    }
  }

  /**
   * The refusal a call made now would meet, counted as one, or `undefined` when the call may
   * go on (through {@link run}, which takes its permit). Grants nothing and moves no state: an
   * elapsed open period or a timed-out probe is left for `run` to act on. It lets a wrapper
   * refuse a call before it builds its outer layers (deadline, retry), so that an open
   * breaker's refusal costs as little as the breaker alone.
   */
  refusal(): CircuitOpenError | undefined {
    switch (this.current) {
      case 'closed':
        return undefined;
      case 'open': {
        const now = this.clock.now();
        if (now >= this.openUntil) return undefined;
        this.refuse(this.openUntil - now);
        break;
      }
      case 'half-open': {
        const oldest = this.probes[0];
        if (this.probes.length < this.permits || oldest === undefined) return undefined;
        const now = this.clock.now();
        if (now - oldest.startedAt >= this.probeTimeoutMs) return undefined;
        this.refuse(oldest.startedAt + this.probeTimeoutMs - now);
        break;
      }
      default:
        this.refuse(Number.POSITIVE_INFINITY);
    }
    return CircuitOpenError.fast(this.name, this.lastRetryAfterMs);
  }

  /** How long the last refused caller was told to wait. */
  get retryAfterMs(): number {
    return this.lastRetryAfterMs;
  }

  /** Hands back a permit from {@link tryAcquire} with the call's outcome. */
  record(permit: BreakerPermit, outcome: Outcome): void {
    this.release(permit, OUTCOME_CODES[outcome]);
  }

  /** Holds the breaker open until {@link reset}, refusing every call. */
  isolate(): void {
    if (this.current !== 'isolated') this.transition('isolated', 'isolate', this.clock.now());
    this.announce();
  }

  /** Closes the breaker and forgets its statistics. */
  reset(): void {
    this.close('reset', this.clock.now());
    this.announce();
  }

  /** A plain view of the breaker's state and counters. */
  snapshot(): BreakerSnapshot {
    const now = this.clock.now();
    let retryAfterMs = 0;
    if (this.current === 'open') retryAfterMs = Math.max(0, this.openUntil - now);
    else if (this.current === 'isolated') retryAfterMs = Number.POSITIVE_INFINITY;
    else if (this.current === 'half-open' && this.probes.length >= this.permits) {
      retryAfterMs = Math.max(0, this.probes[0]!.startedAt + this.probeTimeoutMs - now);
    }
    const window = this.window?.counts(now) ?? { calls: 0, failures: 0 };
    return {
      name: this.name,
      state: this.current,
      period: this.period,
      trips: this.trips,
      retryAfterMs,
      consecutiveFailures: this.consecutive,
      window: { calls: window.calls, failures: window.failures },
      halfOpen: { probes: this.probes.length, successes: this.probeSuccesses },
      totals: {
        successes: this.successes,
        failures: this.failures,
        ignored: this.ignored,
        rejected: this.rejected,
        late: this.late,
      },
    };
  }

  private classify(error: unknown): OutcomeCode {
    try {
      return this.classifier(error) === 'ignored' ? IGNORED : FAILURE;
    } catch {
      // A classifier that throws cannot tell us the error is harmless.
      return FAILURE;
    }
  }

  private refuse(retryAfterMs: number): null {
    this.rejected++;
    const wait = Math.max(0, retryAfterMs);
    this.announce();
    if (this.onRejected.active)
      this.onRejected.emit({ breaker: this.name, state: this.current, retryAfterMs: wait });
    // Set after the listeners ran: one that calls back and is refused must not change what
    // this caller is told.
    this.lastRetryAfterMs = wait;
    return null;
  }

  private grantProbe(now: number): BreakerPermit {
    const permit = new BreakerPermit(this.period, now, true);
    this.probes.push(permit);
    return permit;
  }

  private release(permit: BreakerPermit, outcome: OutcomeCode): void {
    if (permit.probe) {
      const i = this.probes.indexOf(permit);
      if (i >= 0) this.probes.splice(i, 1);
    }
    if (outcome === IGNORED) {
      this.ignored++;
      return;
    }
    let now = 0;
    if (this.timesCalls) {
      now = this.clock.now();
      if (outcome === SUCCESS && this.slowCallMs > 0 && now - permit.startedAt >= this.slowCallMs)
        outcome = FAILURE;
    }
    if (outcome === SUCCESS) this.successes++;
    else this.failures++;
    if (permit.period !== this.period) {
      // A result from an earlier period: lifetime totals only. It never moves the state and
      // never enters the window, which belongs to the current closed period: a call that
      // failed before the breaker last opened says nothing about the backend since it closed.
      this.late++;
      return;
    }
    if (this.current === 'closed') {
      this.window?.record(outcome === FAILURE, now);
      this.afterClosedCall(outcome, now);
    } else if (this.current === 'half-open') this.afterProbe(outcome);
    if (this.pending !== undefined) this.announce();
  }

  private afterClosedCall(outcome: OutcomeCode, now: number): void {
    if (outcome === SUCCESS) {
      this.consecutive = 0;
      return;
    }
    this.consecutive++;
    if (this.consecutiveLimit > 0 && this.consecutive >= this.consecutiveLimit) {
      this.trip('consecutive-failures', now || this.clock.now());
      return;
    }
    if (this.window !== undefined) {
      const { calls, failures } = this.window.counts(now || this.clock.now());
      if (calls >= this.minimumCalls && failures / calls >= this.rateThreshold) {
        this.trip('failure-rate', now || this.clock.now());
      }
    }
  }

  private afterProbe(outcome: OutcomeCode): void {
    const now = this.clock.now();
    if (outcome === FAILURE) {
      this.trip('probe-failure', now);
      return;
    }
    this.probeSuccesses++;
    if (this.probeSuccesses >= this.successesToClose) this.close('probes-succeeded', now);
  }

  private trip(reason: TransitionReason, now: number): void {
    this.trips++;
    const duration = this.openMs * this.openMultiplier ** (this.trips - 1);
    this.openUntil = now + Math.min(this.openMaxMs, duration);
    this.transition('open', reason, now);
  }

  private close(reason: TransitionReason, now: number): void {
    this.trips = 0;
    this.consecutive = 0;
    this.window?.reset();
    this.transition('closed', reason, now);
  }

  private transition(to: BreakerState, reason: TransitionReason, now: number): void {
    const from = this.current;
    this.current = to;
    this.period++;
    this.probes = [];
    this.probeSuccesses = 0;
    if (to !== 'closed') this.consecutive = 0;
    if (this.onStateChange.active) {
      const change: StateChange = { breaker: this.name, from, to, reason, period: this.period, at: now };
      if (this.pending === undefined) this.pending = [change];
      else this.pending.push(change);
    }
  }

  /**
   * Emits the state changes made so far, in order. Every public entry point calls it last,
   * once the state is complete. A listener that calls the breaker and causes another change
   * has it queued behind the current one, so every listener sees the changes in order.
   */
  private announce(): void {
    const queue = this.pending;
    if (queue === undefined || this.announcing) return;
    this.announcing = true;
    for (let i = 0; i < queue.length; i++) this.onStateChange.emit(queue[i]!);
    this.pending = undefined;
    this.announcing = false;
  }
}
