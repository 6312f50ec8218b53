import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EpochGate } from './epoch-gate.js';
import { isStaleEpochError, StaleEpochError } from './errors.js';

describe('EpochGate', () => {
  it('refuses an older epoch for the same key only', () => {
    const gate = new EpochGate();
    gate.admit('reconcile', 3);
    gate.admit('reconcile', 3);
    gate.admit('heal', 1);
    expect(() => gate.admit('reconcile', 2)).toThrow(StaleEpochError);
    try {
      gate.admit('reconcile', 1);
    } catch (err) {
      expect(isStaleEpochError(err)).toBe(true);
      expect(err).toMatchObject({ code: 'STALE_EPOCH', key: 'reconcile', epoch: 1, currentEpoch: 3 });
    }
    gate.admit('reconcile', 4);
    expect(gate.highest('reconcile')).toBe(4);
    expect(gate.highest('heal')).toBe(1);
  });

  it('admits exactly the calls whose epoch is at least every epoch admitted before (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 20 }), { maxLength: 50 }), (epochs) => {
        const gate = new EpochGate();
        let highest = 0;
        for (const e of epochs) {
          const admitted = (() => {
            try {
              gate.admit('k', e);
              return true;
            } catch (err) {
              if (!isStaleEpochError(err)) throw err;
              return false;
            }
          })();
          expect(admitted).toBe(e >= highest);
          highest = Math.max(highest, e);
        }
      }),
    );
  });

  it('recognises the error by its code, not its class', () => {
    expect(isStaleEpochError({ code: 'STALE_EPOCH' })).toBe(true);
    expect(isStaleEpochError(new Error('STALE_EPOCH'))).toBe(false);
  });
});
