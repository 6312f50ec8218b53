export interface BackoffOptions {
  /** Ceiling of the first retry's delay. Default 1000 ms. */
  baseMs?: number;
  /** Largest ceiling. Default 60 000 ms. */
  capMs?: number;
}

/**
 * Delay before the retry that follows failed attempt `attempt` (1-based): FULL jitter, a
 * uniform draw over [0, min(cap, base * 2^(attempt-1))). Equal jitter (half fixed, half
 * random) keeps retries of jobs that failed together clustered; full jitter spreads them.
 */
export function fullJitterBackoff(
  attempt: number,
  options: BackoffOptions = {},
  random: () => number = Math.random,
): number {
  const base = options.baseMs ?? 1_000;
  const cap = options.capMs ?? 60_000;
  const ceiling = Math.min(cap, base * 2 ** Math.max(0, Math.min(attempt - 1, 30)));
  return Math.floor(random() * ceiling);
}
