// Percentiles of a sample, nearest rank: p99 of 10 values is the largest, never an
// interpolation between two observations, so a figure is always a time that happened.

/** The `p`-th percentile (0 < p <= 100) of `values`, or null for an empty sample. */
export function percentile(values: readonly number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

/** The largest of `values`, or `empty` for none (no spread: a run's history overflows one). */
export function maxOf(values: Iterable<number>, empty = 0): number {
  let max = Number.NEGATIVE_INFINITY;
  for (const v of values) if (v > max) max = v;
  return max === Number.NEGATIVE_INFINITY ? empty : max;
}

/** p50, p99 and max of `values` under `prefix` (`failoverP50Ms`...), nulls when empty. */
export function spread(prefix: string, values: readonly number[]): Record<string, number | null> {
  return {
    [`${prefix}P50Ms`]: percentile(values, 50),
    [`${prefix}P99Ms`]: percentile(values, 99),
    [`${prefix}MaxMs`]: values.length === 0 ? null : maxOf(values),
  };
}

/** `value` rounded to `digits` decimals (figures stay readable in JSON). */
export function round(value: number, digits = 3): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}
