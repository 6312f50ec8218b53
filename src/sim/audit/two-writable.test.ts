import { describe, expect, it } from 'vitest';
import type { WritableChange } from '../ports/database.js';
import { twoWritable } from './two-writable.js';

let seq = 0;
const change = (database: string, node: string, writable: boolean, at = seq): WritableChange => ({
  seq: ++seq,
  at,
  database,
  node,
  writable,
  op: writable ? 'promote' : 'fence',
});

describe('twoWritable audit', () => {
  it('passes a failover that fenced the old primary before promoting', () => {
    const history = [change('db1', 'a', true), change('db1', 'a', false), change('db1', 'b', true)];
    expect(twoWritable(history)).toEqual([]);
  });

  it('fails a promote while the old primary was still writable (known bad)', () => {
    const history = [change('db1', 'a', true), change('db1', 'b', true), change('db1', 'a', false)];
    const violations = twoWritable(history);
    expect(violations).toHaveLength(1);
    expect(violations[0]).toMatchObject({ database: 'db1', seq: history[1]!.seq, nodes: ['a', 'b'] });
  });

  it('fails even when the overlap lasted no time at all (same timestamp, fence after)', () => {
    const history = [change('db1', 'a', true, 5), change('db1', 'b', true, 9), change('db1', 'a', false, 9)];
    expect(twoWritable(history)).toHaveLength(1);
  });

  it('judges the history in seq order, whatever order it is handed in', () => {
    const history = [change('db1', 'a', true), change('db1', 'a', false), change('db1', 'b', true)];
    expect(twoWritable([...history].reverse())).toEqual([]);
    const bad = [change('db2', 'a', true), change('db2', 'b', true)];
    expect(twoWritable([...bad].reverse())).toHaveLength(1);
  });

  it('keeps databases apart: one primary each is no violation; a third writable is reported with all three', () => {
    const history = [
      change('db1', 'a', true),
      change('db2', 'x', true),
      change('db1', 'b', true),
      change('db1', 'c', true),
    ];
    const violations = twoWritable(history);
    expect(violations.map((v) => v.nodes)).toEqual([
      ['a', 'b'],
      ['a', 'b', 'c'],
    ]);
  });
});
