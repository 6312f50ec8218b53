import { describe, expect, it } from 'vitest';
import { isLeaderKeyConflictError, LeaderKeyRegistry } from './keys.js';
import { resolveElectorSettings } from './settings.js';

describe('LeaderKeyRegistry', () => {
  it('registers keys with unique names and ids, idempotently', () => {
    const r = new LeaderKeyRegistry();
    const keys = r.registerAll({ reconcile: 100, heal: 101 });
    expect(r.register('reconcile', 100)).toBe(keys.reconcile);
    expect(r.get('heal')).toEqual({ name: 'heal', id: 101 });
    expect(r.byId(100)?.name).toBe('reconcile');
    expect(r.all().map((k) => k.name)).toEqual(['reconcile', 'heal']);
  });

  it('refuses a second id for a name, a second name for an id, and invalid ids', () => {
    const r = new LeaderKeyRegistry();
    r.register('gc', 106);
    for (const clash of [() => r.register('gc', 107), () => r.register('cron', 106)]) {
      expect(clash).toThrow();
      try {
        clash();
      } catch (err) {
        expect(isLeaderKeyConflictError(err)).toBe(true);
      }
    }
    expect(() => r.register('bad name', 1)).toThrow(RangeError);
    expect(() => r.register('x', 0)).toThrow(RangeError);
    expect(() => r.register('x', 2 ** 31)).toThrow(RangeError);
    expect(() => r.get('missing')).toThrow(RangeError);
  });
});

describe('elector settings', () => {
  it('keep the renew deadline inside the server idle timeout', () => {
    expect(resolveElectorSettings().renewDeadlineMs).toBe(2_000);
    expect(() => resolveElectorSettings({ renewDeadlineMs: 3_000 })).toThrow(RangeError);
    expect(() => resolveElectorSettings({ heartbeatIntervalMs: 1_500 })).toThrow(RangeError);
    expect(() => resolveElectorSettings({ tcpUserTimeoutMs: 0 })).toThrow(RangeError);
  });
});
