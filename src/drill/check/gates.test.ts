import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { applyGates, isGatesError, parseGates } from './gates.js';
import { check } from './index.js';
import { goodRun } from './testing.js';

const shipped = parseGates(
  JSON.parse(readFileSync(new URL('../../../drills/gates.json', import.meta.url), 'utf8')),
  'drills/gates.json',
);

describe('gates', () => {
  it('the shipped gates pass a good run; a figure it did not measure leaves its gate unmeasured', () => {
    const results = applyGates(check(goodRun()), shipped);
    expect(results.filter((g) => g.status === 'missed')).toEqual([]);
    expect(results.find((g) => g.name === 'failoverCrashP99Ms')).toMatchObject({
      status: 'passed',
      value: 250,
      max: 1000,
      message: 'gate failoverCrashP99Ms passed: G4.failoverP99Ms.kill = 250 (<= 1000)',
    });
    // No leader was paused in this run.
    expect(results.find((g) => g.name === 'failoverHangP99Ms')?.status).toBe('unmeasured');
  });

  it('a missed gate names itself, its value and its threshold', () => {
    const run = goodRun();
    const slow = {
      ...run.evidence,
      terms: run.evidence.terms.map((t) => (t.epoch === 2 ? { ...t, acquiredT: 2400 } : t)),
    };
    const results = applyGates(check({ ...run, evidence: slow }), shipped);
    expect(results.filter((g) => g.status === 'missed').map((g) => g.message)).toEqual([
      'gate failoverCrashP99Ms missed: G4.failoverP99Ms.kill = 1400 > 1000',
    ]);
    const low = applyGates(
      check(goodRun()),
      parseGates({ gates: { ratio: { figure: 'G5.firstTryRatio', min: 1.5 } } }),
    );
    expect(low[0]).toMatchObject({
      status: 'missed',
      message: 'gate ratio missed: G5.firstTryRatio = 1 < 1.5',
    });
  });

  it('a required gate misses when its figure was not measured', () => {
    const gates = parseGates({
      gates: { hang: { figure: 'G4.failoverP99Ms.pause', max: 5000, required: true } },
    });
    expect(applyGates(check(goodRun()), gates)[0]).toMatchObject({
      status: 'missed',
      message: 'gate hang missed: G4.failoverP99Ms.pause was not measured (wanted <= 5000)',
    });
  });

  it('refuses a gates file naming no guarantee, or bounding nothing', () => {
    const refusal = (value: unknown) => {
      try {
        parseGates(value, 'gates.json');
      } catch (error) {
        expect(isGatesError(error)).toBe(true);
        return (error as Error).message;
      }
      throw new Error('accepted');
    };
    expect(refusal({ gates: { x: { figure: 'G9.lost', max: 0 } } })).toMatch(
      /^gates\.json: \/gates\/x\/figure /,
    );
    expect(refusal({ gates: { x: { figure: 'G1.lost' } } })).toBe('gates.json: /gates/x needs max or min');
    expect(refusal({ gates: { x: { figure: 'G1.lost', max: '0' } } })).toMatch(
      /^gates\.json: \/gates\/x\/max /,
    );
  });
});
