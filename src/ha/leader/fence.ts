import type { Database, Queryable } from '../db/database.js';
import { loadText } from '../db/sql-loader.js';
import { StaleEpochError } from './errors.js';
import type { Fence } from './port.js';

const sql = {
  check: loadText(new URL('./sql/fence-check.sql', import.meta.url)),
  timeouts: loadText(new URL('./sql/fence-timeouts.sql', import.meta.url)),
};

/**
 * Checks, inside a write transaction, that `fence.epoch` is the key's current epoch, and
 * keeps the term row locked FOR SHARE until the transaction ends. Call it FIRST in the
 * transaction: a newer leader's epoch bump then waits for this transaction to end, and if
 * the bump committed first this throws `StaleEpochError` and the transaction must roll back.
 * Works on any connection, pooled or not, on both drivers.
 */
export async function assertEpoch(tx: Queryable, fence: Fence): Promise<void> {
  const res = await tx.query<{ epoch: number }>(sql.check, [fence.keyId]);
  const current = res.rows[0]?.epoch;
  if (current !== fence.epoch) throw new StaleEpochError(fence.key, fence.epoch, current);
}

export interface FencedTransactionOptions {
  /**
   * The server ends the transaction if it sits idle this long (a paused or cut-off writer),
   * which bounds how long a new leader's epoch bump can wait for it. Default 2000 ms, below
   * the elector's idle_session_timeout (3000 ms) so it never lengthens a hang failover.
   */
  idleTimeoutMs?: number;
  /** Bounds each statement of the transaction. Default 5000 ms. */
  statementTimeoutMs?: number;
}

/**
 * Runs `fn` in one transaction that is fenced by `fence`: it commits only if no newer term
 * began before it took the term row, and a newer term cannot begin until it has ended.
 * Rejects with `StaleEpochError` (nothing written) when the epoch is no longer current.
 */
export async function fencedTransaction<T>(
  db: Database,
  fence: Fence,
  fn: (tx: Queryable) => Promise<T>,
  options: FencedTransactionOptions = {},
): Promise<T> {
  return db.transaction(async (tx) => {
    if (db.driver === 'pg') {
      await tx.query(sql.timeouts, [
        String(options.idleTimeoutMs ?? 2_000),
        String(options.statementTimeoutMs ?? 5_000),
      ]);
    }
    await assertEpoch(tx, fence);
    return fn(tx);
  });
}
