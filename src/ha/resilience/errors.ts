// Typed errors of the resilience policies. Each has a stable `code` and a brand, and each
// type guard checks those rather than `instanceof`, so an error raised by one copy of this
// package is still recognised by another copy (two versions in one dependency tree).

/** Brand shared by every resilience error, registered globally so that copies agree. */
const BRAND: unique symbol = Symbol.for('stratus.resilience.error');

/** The stable codes of the resilience errors. */
export const ResilienceErrorCode = {
  CircuitOpen: 'ERR_CIRCUIT_OPEN',
  BulkheadRejected: 'ERR_BULKHEAD_REJECTED',
  Timeout: 'ERR_TIMEOUT',
  RetryExhausted: 'ERR_RETRY_EXHAUSTED',
  StreamIdle: 'ERR_STREAM_IDLE',
} as const;

/** One of {@link ResilienceErrorCode}. */
export type ResilienceErrorCode = (typeof ResilienceErrorCode)[keyof typeof ResilienceErrorCode];

/**
 * Builds an error without capturing a stack trace. Rejections on the fail-fast path are the
 * hot path of an open breaker or a full bulkhead: capturing a stack costs about 8 µs of the
 * 9.5 µs p99 we measured for cockatiel and opossum, and the stack only ever points into the
 * policy itself, which tells the reader nothing the `code` does not.
 */
function withoutStack<E>(build: () => E): E {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return build();
  } finally {
    Error.stackTraceLimit = limit;
  }
}

/** Base class of the resilience errors: carries the brand and the stable code. */
export abstract class ResilienceError extends Error {
  /** Stable machine-readable code; compare it, not the message. */
  abstract readonly code: ResilienceErrorCode;
  /** Brand checked by the type guards. */
  readonly [BRAND] = true;
}

function hasCode(error: unknown, code: ResilienceErrorCode): boolean {
  return (
    typeof error === 'object' &&
    error !== null &&
    (error as { code?: unknown }).code === code &&
    (error as { [BRAND]?: unknown })[BRAND] === true
  );
}

/** True for any error raised by a resilience policy (any copy of this package). */
export function isResilienceError(error: unknown): error is ResilienceError {
  return typeof error === 'object' && error !== null && (error as { [BRAND]?: unknown })[BRAND] === true;
}

/** A circuit breaker refused the call without running it. */
export class CircuitOpenError extends ResilienceError {
  readonly code = ResilienceErrorCode.CircuitOpen;
  override readonly name = 'CircuitOpenError';

  /**
   * @param breaker name of the breaker that refused the call
   * @param retryAfterMs how long until the breaker may admit a call again; `Infinity`
   *   while it is isolated by hand
   */
  constructor(
    readonly breaker: string,
    readonly retryAfterMs: number,
  ) {
    super(`circuit '${breaker}' is open; retry after ${Math.ceil(retryAfterMs)} ms`);
  }

  /** Builds the error without a stack trace (the fail-fast path). */
  static fast(breaker: string, retryAfterMs: number): CircuitOpenError {
    return withoutStack(() => new CircuitOpenError(breaker, retryAfterMs));
  }
}

/** Why a bulkhead refused a call. */
export type BulkheadRejection = 'full' | 'queue-timeout' | 'aborted';

/** A bulkhead refused the call: its slots and queue were full, the wait timed out, or the caller aborted while queued. */
export class BulkheadRejectedError extends ResilienceError {
  readonly code = ResilienceErrorCode.BulkheadRejected;
  override readonly name = 'BulkheadRejectedError';

  /**
   * @param bulkhead name of the bulkhead
   * @param reason why the call was refused
   * @param cause the abort reason when `reason` is `aborted`
   */
  constructor(
    readonly bulkhead: string,
    readonly reason: BulkheadRejection,
    cause?: unknown,
  ) {
    super(
      `bulkhead '${bulkhead}' rejected the call (${reason})`,
      cause === undefined ? undefined : { cause },
    );
  }

  /** Builds the error without a stack trace (the fail-fast path). */
  static fast(bulkhead: string, reason: BulkheadRejection, cause?: unknown): BulkheadRejectedError {
    return withoutStack(() => new BulkheadRejectedError(bulkhead, reason, cause));
  }
}

/** A call did not finish before its deadline; its AbortSignal was aborted with this error. */
export class TimeoutError extends ResilienceError {
  readonly code = ResilienceErrorCode.Timeout;
  override readonly name = 'TimeoutError';

  /**
   * @param policy name of the timeout policy
   * @param timeoutMs the deadline that passed
   */
  constructor(
    readonly policy: string,
    readonly timeoutMs: number,
  ) {
    super(`'${policy}' timed out after ${timeoutMs} ms`);
  }

  /** Builds the error without a stack trace: the stack would only show the timer. */
  static fast(policy: string, timeoutMs: number): TimeoutError {
    return withoutStack(() => new TimeoutError(policy, timeoutMs));
  }
}

/** Every attempt a retry policy allowed failed; `cause` is the last failure. */
export class RetryExhaustedError extends ResilienceError {
  readonly code = ResilienceErrorCode.RetryExhausted;
  override readonly name = 'RetryExhaustedError';

  /**
   * @param policy name of the retry policy
   * @param attempts how many attempts ran
   * @param cause the last attempt's error (earlier ones are in `errors`)
   * @param errors every attempt's error, oldest first
   */
  constructor(
    readonly policy: string,
    readonly attempts: number,
    cause: unknown,
    readonly errors: readonly unknown[],
  ) {
    super(`'${policy}' failed after ${attempts} attempts: ${describe(cause)}`, { cause });
  }
}

/**
 * An open stream was released because its reader asked for nothing for too long (a client
 * that went away without closing it); the stream's signal was aborted with this error.
 */
export class StreamIdleError extends ResilienceError {
  readonly code = ResilienceErrorCode.StreamIdle;
  override readonly name = 'StreamIdleError';

  /** @param idleMs how long the stream waited for a read */
  constructor(readonly idleMs: number) {
    super(`stream released after ${idleMs} ms without a read`);
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** True if `error` is a {@link CircuitOpenError} from any copy of this package. */
export function isCircuitOpenError(error: unknown): error is CircuitOpenError {
  return hasCode(error, ResilienceErrorCode.CircuitOpen);
}

/** True if `error` is a {@link BulkheadRejectedError} from any copy of this package. */
export function isBulkheadRejectedError(error: unknown): error is BulkheadRejectedError {
  return hasCode(error, ResilienceErrorCode.BulkheadRejected);
}

/** True if `error` is a {@link TimeoutError} from any copy of this package. */
export function isTimeoutError(error: unknown): error is TimeoutError {
  return hasCode(error, ResilienceErrorCode.Timeout);
}

/** True if `error` is a {@link RetryExhaustedError} from any copy of this package. */
export function isRetryExhaustedError(error: unknown): error is RetryExhaustedError {
  return hasCode(error, ResilienceErrorCode.RetryExhausted);
}

/** True if `error` is a {@link StreamIdleError} from any copy of this package. */
export function isStreamIdleError(error: unknown): error is StreamIdleError {
  return hasCode(error, ResilienceErrorCode.StreamIdle);
}

/**
 * Walks `error` and its `cause` chain (bounded, cycles are cut) and returns the first link
 * that `match` accepts. Lets a classifier look through a {@link RetryExhaustedError}.
 */
export function findCause<E>(error: unknown, match: (e: unknown) => e is E): E | undefined {
  let current = error;
  for (let depth = 0; depth < 16 && current !== undefined && current !== null; depth++) {
    if (match(current)) return current;
    current = typeof current === 'object' ? (current as { cause?: unknown }).cause : undefined;
  }
  return undefined;
}
