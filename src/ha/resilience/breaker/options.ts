// Options and event types of the circuit breaker, kept apart from the state machine.

import type { Clock } from '../clock.js';

/** The breaker's states. `isolated` is a manual hold open, left only by `reset()`. */
export type BreakerState = 'closed' | 'open' | 'half-open' | 'isolated';

/** How a call ended, as far as the breaker cares. `ignored` counts as neither. */
export type Outcome = 'success' | 'failure' | 'ignored';

/** Why the breaker changed state. */
export type TransitionReason =
  | 'consecutive-failures'
  | 'failure-rate'
  | 'open-elapsed'
  | 'probe-failure'
  | 'probe-timeout'
  | 'probes-succeeded'
  | 'isolate'
  | 'reset';

/** Emitted synchronously on every state change. */
export interface StateChange {
  /** Name of the breaker. */
  readonly breaker: string;
  /** State before. */
  readonly from: BreakerState;
  /** State after. */
  readonly to: BreakerState;
  /** What caused it. */
  readonly reason: TransitionReason;
  /** The state period that begins (it grows by one on every change). */
  readonly period: number;
  /** Monotonic time of the change. */
  readonly at: number;
}

/** Emitted when the breaker refuses a call. */
export interface BreakerRejection {
  /** Name of the breaker. */
  readonly breaker: string;
  /** The state that refused the call. */
  readonly state: BreakerState;
  /** How long until a call may be admitted again. */
  readonly retryAfterMs: number;
}

/** The failure-rate rule: opens when the window's failure share reaches `threshold`. */
export interface FailureRateOptions {
  /** Failure share in (0, 1] at which the breaker opens. */
  readonly threshold: number;
  /** The rule waits for this many calls in the window before it can open. */
  readonly minimumCalls: number;
  /** The last `size` calls, or the calls of the last `sizeMs` in `buckets` buckets. */
  readonly window: { readonly type: 'count'; readonly size: number } | TimeWindowOptions;
}

/** A time-based sliding window. */
export interface TimeWindowOptions {
  /** Discriminant. */
  readonly type: 'time';
  /** Length of the window. */
  readonly sizeMs: number;
  /** Number of buckets (resolution); default 10. */
  readonly buckets?: number;
}

/** Half-open behaviour. */
export interface HalfOpenOptions {
  /** Probes allowed at once; default 1 (single flight). */
  readonly permits?: number;
  /** Consecutive probe successes needed to close; default 2. */
  readonly successesToClose?: number;
  /**
   * A probe still unsettled this long after it started reopens the breaker (checked when the
   * next call arrives), so a hung probe cannot wedge it; default 30 000.
   */
  readonly probeTimeoutMs?: number;
}

/** Growth of the open duration on repeated trips without a close in between. */
export interface OpenBackoffOptions {
  /** Each further trip multiplies the open duration by this; default 2. */
  readonly multiplier?: number;
  /** Upper bound of the open duration. */
  readonly maxMs: number;
}

/** Configuration of a circuit breaker. Every field has a default. */
export interface CircuitBreakerOptions {
  /** Name used in errors, events and metrics; default `breaker`. */
  readonly name?: string;
  /** Monotonic clock; default `performance.now()`. */
  readonly clock?: Clock;
  /** Opens after this many consecutive failures; default 5; 0 turns the rule off. */
  readonly consecutiveFailures?: number;
  /** Opens on a failure rate over a sliding window; off by default. */
  readonly failureRate?: FailureRateOptions;
  /** A successful call that took at least this long counts as a failure; off by default. */
  readonly slowCallMs?: number;
  /** How long the breaker stays open before it lets a probe through; default 30 000. */
  readonly openMs?: number;
  /** Grows the open duration on repeated trips; off by default. */
  readonly openBackoff?: OpenBackoffOptions;
  /** Half-open behaviour. */
  readonly halfOpen?: HalfOpenOptions;
  /**
   * Decides whether an error is a failure of the backend or to be ignored (a "not found" or
   * an invalid input says nothing about the backend's health). Default: failures, except
   * the rejections of other resilience policies, which are ignored.
   */
  readonly classify?: (error: unknown) => 'failure' | 'ignored';
}
