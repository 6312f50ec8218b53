import type { Database, Row } from '../db/database.js';
import { loadText } from '../db/sql-loader.js';
import type { QueueProducer } from '../queue/port.js';

const sql = {
  relaxedCommit: loadText(new URL('./sql/relaxed-commit.sql', import.meta.url)),
  markDispatched: loadText(new URL('./sql/mark-dispatched.sql', import.meta.url)),
  unclaim: loadText(new URL('./sql/unclaim.sql', import.meta.url)),
  undispatch: loadText(new URL('./sql/undispatch.sql', import.meta.url)),
};

/**
 * Runs one statement in its own short transaction that does not wait for its WAL flush;
 * `settings` is the statement that says so (and may set more for this transaction).
 */
function relaxed<R extends Row>(
  db: Database,
  statement: string,
  params: readonly unknown[],
  settings: string = sql.relaxedCommit,
) {
  return db.transaction(async (tx) => {
    await tx.query(settings);
    return tx.query<R>(statement, params);
  });
}

/** How long a claim keeps other relays and sweepers off rows: far above one queue call. */
export const CLAIM_MS = 10_000;

/**
 * Claims rows with `claimSql`, puts their bodies on the queue, then marks them dispatched.
 * A crash after the queue call and before the mark means the rows are claimed again once the
 * claim expires: a duplicate message, which the ledger turns into a no-op. Returns how many
 * rows went on the queue. `claimSettings` replaces the relaxed-commit statement before the claim.
 */
export async function dispatchClaimed(
  db: Database,
  queue: QueueProducer,
  claimSql: string,
  params: readonly unknown[],
  claimSettings?: string,
): Promise<number> {
  const res = await relaxed<{ id: number; body: string }>(db, claimSql, params, claimSettings);
  if (res.rows.length === 0) return 0;
  const rows = res.rows.sort((a, b) => Number(a.id) - Number(b.id));
  const ids = rows.map((r) => r.id);
  try {
    await queue.addBatch(rows.map((r) => r.body));
  } catch (err) {
    await relaxed(db, sql.unclaim, [ids]).catch(() => {});
    throw err;
  }
  await relaxed(db, sql.markDispatched, [ids]);
  return rows.length;
}

/**
 * Claims rows with `claimSql`, which marks them dispatched in the same statement, and puts
 * their bodies on the queue: one outbox write per row instead of a claim and a mark. A refused
 * add hands the rows back undispatched; a crash before the add leaves them marked dispatched
 * without a message, which the sweeper sends once their grace has passed (no ledger row, so
 * stranded). Returns how many rows went on the queue.
 */
export async function dispatchMarked(
  db: Database,
  queue: QueueProducer,
  claimSql: string,
  params: readonly unknown[],
  claimSettings?: string,
): Promise<number> {
  const res = await relaxed<{ id: number; body: string }>(db, claimSql, params, claimSettings);
  if (res.rows.length === 0) return 0;
  const rows = res.rows.sort((a, b) => Number(a.id) - Number(b.id));
  try {
    await queue.addBatch(rows.map((r) => r.body));
  } catch (err) {
    await relaxed(db, sql.undispatch, [rows.map((r) => r.id)]).catch(() => {});
    throw err;
  }
  return rows.length;
}
