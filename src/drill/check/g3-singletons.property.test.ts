import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { TermRecord } from '../evidence.js';
import { checkSingletons } from './g3-singletons.js';
import { percentile } from './stats.js';
import { goodRun } from './testing.js';

/** A journal of one key: consecutive terms, each starting at or after its predecessor's end. */
const journal = fc
  .array(
    fc.record({
      gap: fc.nat(50),
      length: fc.integer({ min: 1, max: 100 }),
      holder: fc.constantFrom('a', 'b', 'c'),
    }),
    {
      minLength: 2,
      maxLength: 12,
    },
  )
  .map((steps) => {
    let t = 0;
    return steps.map(({ gap, length, holder }, i): TermRecord => {
      const acquiredT = t + gap;
      t = acquiredT + length;
      return { key: 'k', epoch: i + 1, holder, acquiredT, endedT: t };
    });
  });

const judge = (terms: readonly TermRecord[]) => {
  const run = goodRun();
  return checkSingletons({ ...run, evidence: { ...run.evidence, terms, fencedWrites: [] } });
};

describe('G3 on generated journals', () => {
  it('passes any journal of consecutive terms, in any order of records', () => {
    fc.assert(
      fc.property(
        journal.chain((terms) =>
          fc.shuffledSubarray(terms, { minLength: terms.length, maxLength: terms.length }),
        ),
        (terms) => {
          expect(judge(terms).violations).toEqual([]);
        },
      ),
    );
  });

  it('finds the overlap when one term outlives its successor’s start', () => {
    fc.assert(
      fc.property(journal, fc.nat(), fc.integer({ min: 1, max: 1000 }), (terms, pick, extra) => {
        const i = pick % (terms.length - 1);
        const next = terms[i + 1]!;
        const stretched = terms.map((t, j) => (j === i ? { ...t, endedT: next.acquiredT + extra } : t));
        const g = judge(stretched);
        expect(g.ok).toBe(false);
        expect(g.figures.overlaps).toBeGreaterThanOrEqual(1);
        expect(g.violations.some((v) => v.includes(`epoch ${i + 1} `) && v.includes(`epoch ${i + 2} `))).toBe(
          true,
        );
      }),
    );
  });

  it('finds the regression when two epochs are swapped', () => {
    fc.assert(
      fc.property(journal, fc.nat(), (terms, pick) => {
        const i = pick % (terms.length - 1);
        const swapped = terms.map((t, j) =>
          j === i ? { ...t, epoch: terms[i + 1]!.epoch } : j === i + 1 ? { ...t, epoch: terms[i]!.epoch } : t,
        );
        expect(judge(swapped).figures.epochRegressions).toBe(1);
      }),
    );
  });
});

describe('percentile', () => {
  it('is always one of the values, and never below a smaller percentile', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 0, max: 1e6, noNaN: true }), { minLength: 1 }),
        fc.integer({ min: 1, max: 100 }),
        (values, p) => {
          const v = percentile(values, p)!;
          expect(values).toContain(v);
          expect(v).toBeGreaterThanOrEqual(percentile(values, Math.max(1, p - 10))!);
          expect(percentile(values, 100)).toBe(Math.max(...values));
        },
      ),
    );
  });
});
