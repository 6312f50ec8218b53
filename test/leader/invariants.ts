// The fencing invariants of G3, checked from the database alone: the fenced writes the
// children committed (timestamped by the server's clock_timestamp()) against the
// leadership journal (each term's acquired_at, read by the bump after it locked the term
// row, hence after every write of the previous term that committed).
import type { Queryable } from '../../src/ha/db/database.js';

export interface FencingReport {
  /** Writes committed. */
  writes: number;
  /** Terms begun. */
  terms: number;
  /** Writes of epoch e committed at or after epoch e+1 began (must be 0). */
  overlaps: number;
  /** Writes whose epoch is older than an earlier write of the same key (must be 0). */
  regressions: number;
  /** Writes of an epoch no term was begun for (must be 0). */
  unknownEpochs: number;
  /** A few offending rows, for the failure message. */
  examples: unknown[];
}

export async function checkFencing(db: Queryable): Promise<FencingReport> {
  const overlaps = await db.query(
    `SELECT w.key_id, w.epoch, w.node, w.n, w.at, nt.epoch AS next_epoch, nt.acquired_at AS next_began
     FROM fenced_writes w
     JOIN LATERAL (
       SELECT j.epoch, j.acquired_at FROM stratus_leadership_journal j
       WHERE j.key_id = w.key_id AND j.epoch > w.epoch ORDER BY j.epoch LIMIT 1
     ) nt ON true
     WHERE w.at >= nt.acquired_at`,
  );
  const regressions = await db.query(
    `SELECT * FROM (
       SELECT key_id, epoch, node, n, at,
              max(epoch) OVER (PARTITION BY key_id ORDER BY at, id
                               ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS earlier_max
       FROM fenced_writes) s
     WHERE epoch < earlier_max`,
  );
  const unknown = await db.query(
    `SELECT w.* FROM fenced_writes w
     WHERE NOT EXISTS (SELECT 1 FROM stratus_leadership_journal j WHERE j.key_id = w.key_id AND j.epoch = w.epoch)`,
  );
  const counts = await db.query<{ writes: number; terms: number }>(
    `SELECT (SELECT count(*) FROM fenced_writes)::int AS writes,
            (SELECT count(*) FROM stratus_leadership_journal)::int AS terms`,
  );
  return {
    writes: counts.rows[0]!.writes,
    terms: counts.rows[0]!.terms,
    overlaps: overlaps.rowCount,
    regressions: regressions.rowCount,
    unknownEpochs: unknown.rowCount,
    examples: [...overlaps.rows, ...regressions.rows, ...unknown.rows].slice(0, 5),
  };
}

/** Which (node, n) writes the database holds, to compare with what the children reported. */
export async function committedWrites(db: Queryable): Promise<Set<string>> {
  const res = await db.query<{ node: string; n: number }>('SELECT node, n FROM fenced_writes');
  return new Set(res.rows.map((r) => `${r.node}#${r.n}`));
}
