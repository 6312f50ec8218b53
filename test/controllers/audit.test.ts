// The accounting audit on known-good and known-bad inputs: each kind of violation makes it fail.
import { describe, expect, it } from 'vitest';
import {
  accountingViolations,
  type Lifetime,
  type UsageMinute,
} from '../../src/controllers/accounting/audit.js';

const M = 60_000;
const T = 1_000 * M; // an aligned minute
const window = { minuteMs: M, until: T + 5 * M + 30_000 };
// Created inside minute 0, deleted inside minute 3: owes minutes 0..3.
const deleted: Lifetime = { resourceId: 'inst_a', createdAt: T + 20_000, deletedAt: T + 3 * M + 1 };
// Created inside minute 1, alive: owes minutes 1..4 (minute 5 has not ended).
const live: Lifetime = { resourceId: 'inst_b', createdAt: T + M + 59_999 };
const minutes = (id: string, from: number, to: number): UsageMinute[] =>
  Array.from({ length: to - from + 1 }, (_, i) => ({ resourceId: id, minute: T + (from + i) * M }));
const good = [...minutes('inst_a', 0, 3), ...minutes('inst_b', 1, 4)];

describe('accountingViolations', () => {
  it('passes every owed minute recorded once, and does not judge minutes after the window', () => {
    const audit = accountingViolations(
      [...good, { resourceId: 'inst_b', minute: T + 5 * M }],
      [deleted, live],
      window,
    );
    expect(audit).toEqual({ gaps: [], doubles: [], outside: [], owed: 8 });
  });

  it('reports a gap: an owed minute with no row', () => {
    const rows = good.filter((r) => !(r.resourceId === 'inst_b' && r.minute === T + 2 * M));
    const audit = accountingViolations(rows, [deleted, live], window);
    expect(audit.gaps).toEqual([{ type: 'gap', resourceId: 'inst_b', minute: T + 2 * M }]);
    expect(audit.doubles).toEqual([]);
  });

  it('reports gaps at the end of a deleted life and at the start of a life', () => {
    const rows = good.filter((r) => r.minute !== T + 3 * M && r.minute !== T + M);
    const audit = accountingViolations(rows, [deleted, live], window);
    expect(audit.gaps.map((g) => [g.resourceId, (g.minute - T) / M])).toEqual([
      ['inst_a', 1],
      ['inst_a', 3],
      ['inst_b', 1],
      ['inst_b', 3],
    ]);
  });

  it('reports a double: two rows of one minute, or one row written twice', () => {
    const twoRows = accountingViolations(
      [...good, { resourceId: 'inst_a', minute: T }],
      [deleted, live],
      window,
    );
    expect(twoRows.doubles).toEqual([{ type: 'double', resourceId: 'inst_a', minute: T, writes: 2 }]);
    const rewritten = good.map((r) => (r.minute === T + 4 * M ? { ...r, writes: 2 } : r));
    expect(accountingViolations(rewritten, [deleted, live], window).doubles).toEqual([
      { type: 'double', resourceId: 'inst_b', minute: T + 4 * M, writes: 2 },
    ]);
  });

  it('reports minutes outside the life: before creation, after deletion, unaligned, no lifetime', () => {
    const rows = [
      ...good,
      { resourceId: 'inst_b', minute: T },
      { resourceId: 'inst_a', minute: T + 4 * M },
      { resourceId: 'inst_a', minute: T + 30_000 },
      { resourceId: 'inst_ghost', minute: T },
    ];
    const audit = accountingViolations(rows, [deleted, live], window);
    expect(audit.outside.map((o) => [o.resourceId, (o.minute - T) / M])).toEqual([
      ['inst_a', 4],
      ['inst_a', 0.5],
      ['inst_b', 0],
      ['inst_ghost', 0],
    ]);
    expect(audit.gaps).toEqual([]);
  });
});
