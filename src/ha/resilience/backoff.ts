// Backoff delays. "Full jitter" here is the real thing: uniform in [0, min(cap, base·2^n)].
// The predecessor drew from [d/2, d] (equal jitter) and called it full jitter.

/** Produces the delay before retry number `attempt` (0 for the first retry). */
export interface Backoff {
  /** Delay in ms before the retry that follows failed attempt `attempt` (0-based). */
  delay(attempt: number, previousDelayMs: number): number;
}

/** A source of uniform random numbers in [0, 1). */
export type Random = () => number;

/** Options shared by the exponential backoffs. */
export interface ExponentialBackoffOptions {
  /** First delay scale; default 100 ms. */
  readonly baseMs?: number;
  /** Upper bound of any delay; default 10 000 ms. */
  readonly capMs?: number;
  /** Random source; default `Math.random`. */
  readonly random?: Random;
}

/**
 * Exponential backoff with full jitter: the delay after failed attempt n is uniform in
 * [0, min(cap, base·2^n)]. Spreads retries of many clients evenly instead of in waves.
 */
export function fullJitter(options: ExponentialBackoffOptions = {}): Backoff {
  const base = options.baseMs ?? 100;
  const cap = options.capMs ?? 10_000;
  const random = options.random ?? Math.random;
  return {
    delay(attempt) {
      // 2 ** attempt overflows to Infinity for large attempts, which min() then caps.
      return random() * Math.min(cap, base * 2 ** attempt);
    },
  };
}

/**
 * Decorrelated jitter: each delay is uniform in [base, 3·previous], capped. Grows like the
 * exponential one on average but never repeats a fixed schedule.
 */
export function decorrelatedJitter(options: ExponentialBackoffOptions = {}): Backoff {
  const base = options.baseMs ?? 100;
  const cap = options.capMs ?? 10_000;
  const random = options.random ?? Math.random;
  return {
    delay(_attempt, previousDelayMs) {
      const previous = Math.max(base, previousDelayMs);
      return Math.min(cap, base + random() * (previous * 3 - base));
    },
  };
}

/** The same delay every time. */
export function constantBackoff(delayMs: number): Backoff {
  return { delay: () => delayMs };
}
