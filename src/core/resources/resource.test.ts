import { expect, it } from 'vitest';
import { newId } from './ids.js';
import { setCondition } from './resource.js';

it('ids carry the prefix, sort by creation time and do not repeat', () => {
  const early = newId('net', 1_700_000_000_000);
  const late = newId('net', 1_700_000_000_001);
  expect(early).toMatch(/^net_[0-9a-hjkmnp-tv-z]{26}$/);
  expect(early < late).toBe(true);
  const many = new Set(Array.from({ length: 10_000 }, () => newId('x', 1)));
  expect(many.size).toBe(10_000);
});

it('a condition keeps its lastTransitionTime while its status stays, and moves it on a flip', () => {
  const t0 = new Date('2026-01-01T00:00:00Z');
  const t1 = new Date('2026-01-01T00:01:00Z');
  const t2 = new Date('2026-01-01T00:02:00Z');
  const base = { type: 'Ready', observedGeneration: 1, message: '' } as const;
  const first = setCondition([], { ...base, status: 'False', reason: 'Provisioning' }, t0);
  const retried = setCondition(first, { ...base, status: 'False', reason: 'BackendUnavailable' }, t1);
  expect(retried).toEqual([
    { ...base, status: 'False', reason: 'BackendUnavailable', lastTransitionTime: t0.toISOString() },
  ]);
  const ready = setCondition(retried, { ...base, status: 'True', reason: 'Available' }, t2);
  expect(ready[0]!.lastTransitionTime).toBe(t2.toISOString());
});
