// Public surface of the resilience kernel. It knows nothing of clouds: policies, their
// composition, their errors and their metrics.

export {
  type Backoff,
  constantBackoff,
  decorrelatedJitter,
  type ExponentialBackoffOptions,
  fullJitter,
  type Random,
} from './backoff.js';
export { BreakerPermit, type BreakerSnapshot, CircuitBreaker } from './breaker/circuit-breaker.js';
export type {
  BreakerRejection,
  BreakerState,
  CircuitBreakerOptions,
  FailureRateOptions,
  HalfOpenOptions,
  OpenBackoffOptions,
  Outcome,
  StateChange,
  TimeWindowOptions,
  TransitionReason,
} from './breaker/options.js';
export {
  Bulkhead,
  type BulkheadOptions,
  type BulkheadRejectionEvent,
  type BulkheadSnapshot,
} from './bulkhead.js';
export { type Clock, ManualClock, type Scheduler, systemScheduler, type TimerHandle } from './clock.js';
export type { AbortSource, CallScope } from './context.js';
export { Emitter, type Listener, setListenerErrorHandler } from './emitter.js';
export * from './errors.js';
export { createResilienceMetrics, type ResilienceMetrics } from './metrics.js';
export {
  compose,
  DEFAULT_STREAM_IDLE_MS,
  Executor,
  type ExecutorOptions,
  type Next,
  type OpenStream,
  type Policy,
  type Work,
} from './policy.js';
export { Retry, type RetryEvent, type RetryOptions } from './retry.js';
export { Timeout, type TimeoutEvent, type TimeoutOptions } from './timeout.js';
