// The split-brain audit of managed databases: any instant at which one database had two
// writable primaries. It replays the simulator's history of writable changes in order; the
// moment a change leaves two nodes of one database writable is a violation, however briefly.

import type { WritableChange } from '../ports/database.js';

/** One instant with more than one writable primary. */
export interface TwoWritableViolation {
  readonly database: string;
  /** The change that made the second node writable. */
  readonly seq: number;
  readonly at: number;
  /** Every node writable after that change. */
  readonly nodes: readonly string[];
}

/** The instants of `history` at which a database had two (or more) writable primaries. */
export function twoWritable(history: readonly WritableChange[]): TwoWritableViolation[] {
  const writable = new Map<string, Set<string>>();
  const violations: TwoWritableViolation[] = [];
  const ordered = [...history].sort((a, b) => a.seq - b.seq);
  for (const change of ordered) {
    const nodes = writable.get(change.database) ?? new Set<string>();
    writable.set(change.database, nodes);
    if (change.writable) nodes.add(change.node);
    else nodes.delete(change.node);
    if (change.writable && nodes.size > 1)
      violations.push({
        database: change.database,
        seq: change.seq,
        at: change.at,
        nodes: [...nodes].sort(),
      });
  }
  return violations;
}
