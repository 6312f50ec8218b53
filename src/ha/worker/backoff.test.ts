import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fullJitterBackoff } from './backoff.js';

describe('fullJitterBackoff', () => {
  it('draws over the whole range [0, ceiling), not its upper half', () => {
    expect(fullJitterBackoff(1, { baseMs: 1000 }, () => 0)).toBe(0);
    expect(fullJitterBackoff(3, { baseMs: 1000 }, () => 0.999_999)).toBe(3999);
    expect(fullJitterBackoff(30, { baseMs: 1000, capMs: 60_000 }, () => 0.5)).toBe(30_000);
  });

  it('stays within [0, min(cap, base * 2^(attempt-1))) for any draw', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 100 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (a, r) => {
          const d = fullJitterBackoff(a, { baseMs: 100, capMs: 10_000 }, () => r);
          return d >= 0 && d < Math.min(10_000, 100 * 2 ** (a - 1));
        },
      ),
    );
  });
});
