/**
 * Exponential backoff with full jitter: attempt n (from 1) waits a uniformly random time in
 * [floorMs, min(maxMs, initialMs * 2^(n-1))]. The floor keeps an unlucky run of tiny draws
 * from becoming a hot loop against a database that is down.
 */
export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
  floorMs: number;
}

export const defaultBackoff: Readonly<BackoffOptions> = Object.freeze({
  initialMs: 200,
  maxMs: 5_000,
  floorMs: 50,
});

export function backoffDelay(attempt: number, options: BackoffOptions, random: () => number): number {
  const cap = Math.min(options.maxMs, options.initialMs * 2 ** Math.max(0, attempt - 1));
  const floor = Math.min(options.floorMs, cap);
  return floor + random() * (cap - floor);
}
