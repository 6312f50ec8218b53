// The fencing invariants of G3, checked from the database alone, in COMMIT order: no clock,
// neither the processes' nor the server's. Every fenced write the children commit and every
// epoch bump takes, at commit time, the next number of a per-key counter whose row lock it
// holds until its commit ends, so those numbers order the writes and bumps of a key exactly
// as they committed. (A timestamp taken when a row is inserted would miss a write that
// inserted before a bump and committed after it.)
//
// A write can also be accepted from a term that no newer term has superseded yet: its lock
// session ended, the successor holds the lock but has not committed its bump. Each write
// therefore also records, when it inserts its row, whether the session of its term still
// held the term's leadership lock, from pg_locks. (At insert, not at commit: the fence checks
// the lock after the insert, just before COMMIT, and a session that ends between that check
// and the commit is a window of one round trip that no fence can close; the successor's bump
// still waits for that commit, so it never overlaps the successor's term.)
import type { Queryable } from '../../src/ha/db/database.js';
import { LockClass } from '../../src/ha/db/lock-ids.js';

/**
 * Schema the children write to, beyond the migrations: `fenced_writes`, and the triggers that
 * stamp each committed write and each epoch bump with its place in the key's commit order.
 * Deferred constraint triggers run at commit; the counter row stays locked until the commit
 * ends, so a later stamp always belongs to a later commit.
 */
export const fencingSchema = `
CREATE TABLE fenced_writes (
  id         bigserial PRIMARY KEY,
  key_id     integer NOT NULL,
  epoch      bigint NOT NULL,
  node       text NOT NULL,
  n          integer NOT NULL,
  at         timestamptz NOT NULL DEFAULT clock_timestamp(),
  commit_seq bigint,
  lock_held  boolean
);
CREATE TABLE commit_order (key_id integer PRIMARY KEY, seq bigint NOT NULL);
CREATE TABLE epoch_bumps (key_id integer NOT NULL, epoch bigint NOT NULL, commit_seq bigint NOT NULL,
                          PRIMARY KEY (key_id, epoch));
CREATE FUNCTION next_commit_seq(k integer) RETURNS bigint LANGUAGE sql AS $$
  INSERT INTO commit_order AS c VALUES (k, 1)
  ON CONFLICT (key_id) DO UPDATE SET seq = c.seq + 1
  RETURNING seq
$$;
CREATE FUNCTION stamp_write() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE fenced_writes SET commit_seq = next_commit_seq(NEW.key_id) WHERE id = NEW.id;
  RETURN NULL;
END $$;
CREATE FUNCTION check_lock() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.lock_held := (
    SELECT j.backend_pid = 0 OR EXISTS (
      SELECT 1 FROM pg_locks l
      WHERE l.locktype = 'advisory' AND l.granted AND l.pid = j.backend_pid
        AND l.classid = ${LockClass.leadership}::int8::oid AND l.objid = NEW.key_id::int8::oid
        AND l.objsubid = 2)
    FROM stratus_leadership_journal j WHERE j.key_id = NEW.key_id AND j.epoch = NEW.epoch);
  RETURN NEW;
END $$;
CREATE TRIGGER check_lock BEFORE INSERT ON fenced_writes FOR EACH ROW EXECUTE FUNCTION check_lock();
CREATE CONSTRAINT TRIGGER stamp_write AFTER INSERT ON fenced_writes
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION stamp_write();
CREATE FUNCTION stamp_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO epoch_bumps VALUES (NEW.key_id, NEW.epoch, next_commit_seq(NEW.key_id));
  RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER stamp_bump AFTER INSERT OR UPDATE OF epoch ON stratus_leadership
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION stamp_bump();
`;

export interface FencingReport {
  /** Writes committed. */
  writes: number;
  /** Epoch bumps committed (terms begun). */
  terms: number;
  /** Writes of epoch e that committed after a bump to a newer epoch of the same key (must be 0). */
  overlaps: number;
  /** Writes whose epoch is older than one committed before them for the same key (must be 0). */
  regressions: number;
  /** Writes of an epoch no bump committed, or without a commit stamp (must be 0). */
  unknownEpochs: number;
  /**
   * Writes accepted although the session of their term no longer held its leadership lock
   * when they were made (must be 0): from a deposed term whose successor had not bumped yet.
   */
  afterLockLost: number;
  /** A few offending rows, for the failure message. */
  examples: unknown[];
}

export async function checkFencing(db: Queryable): Promise<FencingReport> {
  const overlaps = await db.query(
    `SELECT w.key_id, w.epoch, w.node, w.n, w.commit_seq, b.epoch AS newer_epoch, b.commit_seq AS bumped_at_seq
     FROM fenced_writes w
     JOIN LATERAL (
       SELECT b.epoch, b.commit_seq FROM epoch_bumps b
       WHERE b.key_id = w.key_id AND b.epoch > w.epoch ORDER BY b.commit_seq LIMIT 1
     ) b ON true
     WHERE w.commit_seq > b.commit_seq`,
  );
  const regressions = await db.query(
    `SELECT * FROM (
       SELECT key_id, epoch, node, n, commit_seq,
              max(epoch) OVER (PARTITION BY key_id ORDER BY commit_seq
                               ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS earlier_max
       FROM fenced_writes) s
     WHERE epoch < earlier_max`,
  );
  const unknown = await db.query(
    `SELECT w.* FROM fenced_writes w
     WHERE w.commit_seq IS NULL
        OR NOT EXISTS (SELECT 1 FROM epoch_bumps b WHERE b.key_id = w.key_id AND b.epoch = w.epoch)`,
  );
  const afterLockLost = await db.query('SELECT * FROM fenced_writes WHERE lock_held IS FALSE');
  const counts = await db.query<{ writes: number; terms: number }>(
    `SELECT (SELECT count(*) FROM fenced_writes)::int AS writes,
            (SELECT count(*) FROM epoch_bumps)::int AS terms`,
  );
  return {
    writes: counts.rows[0]!.writes,
    terms: counts.rows[0]!.terms,
    overlaps: overlaps.rowCount,
    regressions: regressions.rowCount,
    unknownEpochs: unknown.rowCount,
    afterLockLost: afterLockLost.rowCount,
    examples: [...overlaps.rows, ...regressions.rows, ...unknown.rows, ...afterLockLost.rows].slice(0, 5),
  };
}

/** Which (node, n) writes the database holds, to compare with what the children reported. */
export async function committedWrites(db: Queryable): Promise<Set<string>> {
  const res = await db.query<{ node: string; n: number }>('SELECT node, n FROM fenced_writes');
  return new Set(res.rows.map((r) => `${r.node}#${r.n}`));
}
