import type { Database, Queryable } from '../db/database.js';
import { LockClass } from '../db/lock-ids.js';
import { loadText } from '../db/sql-loader.js';
import { FenceDeadlineError, StaleEpochError } from './errors.js';
import type { Fence } from './port.js';
import { defaultFenceSettings, type FenceSettings } from './settings.js';

const sql = {
  lock: loadText(new URL('./sql/fence-lock.sql', import.meta.url)),
  check: loadText(new URL('./sql/fence-check.sql', import.meta.url)),
  timeouts: loadText(new URL('./sql/fence-timeouts.sql', import.meta.url)),
};

async function checkTerm(tx: Queryable, fence: Fence): Promise<void> {
  const res = await tx.query<{ epoch: number; lock_held: boolean }>(sql.check, [
    fence.keyId,
    LockClass.leadership,
  ]);
  const row = res.rows[0];
  if (row?.epoch !== fence.epoch) throw new StaleEpochError(fence.key, fence.epoch, row?.epoch);
  if (!row.lock_held) throw new StaleEpochError(fence.key, fence.epoch, row.epoch, 'lock-lost');
}

/**
 * Takes the key's fence shared for the rest of the transaction, then checks that `fence.epoch`
 * is the key's current epoch and that its holder session still holds the leadership lock.
 * Call it FIRST in the transaction: a newer leader's epoch bump then waits for this
 * transaction to end, and if the bump committed first this throws `StaleEpochError` and the
 * transaction must roll back. `fencedTransaction` also checks again before COMMIT and bounds
 * the transaction; prefer it. Works on any connection, pooled or not, on both drivers.
 */
export async function assertEpoch(tx: Queryable, fence: Fence): Promise<void> {
  await tx.query(sql.lock, [LockClass.leadershipFence, fence.keyId]);
  await checkTerm(tx, fence);
}

/** Per-call overrides of the term's fence bounds. */
export type FencedTransactionOptions = Partial<FenceSettings>;

/**
 * Runs `fn` in one transaction that is fenced by `fence`: it commits only if no newer term
 * began before it took the fence and the term's lock was still held just before COMMIT, and a
 * newer term cannot begin until it has ended. Rejects with `StaleEpochError` (nothing
 * written) when the term is over, and with `FenceDeadlineError` once `fencedDeadlineMs` has
 * passed, even if its connection hangs; `fn`'s later queries then fail at once.
 */
export async function fencedTransaction<T>(
  db: Database,
  fence: Fence,
  fn: (tx: Queryable) => Promise<T>,
  options: FencedTransactionOptions = {},
): Promise<T> {
  const bounds = { ...defaultFenceSettings, ...fence.bounds, ...options };
  let expired: FenceDeadlineError | undefined;
  const work = db.transaction(async (inner) => {
    const tx: Queryable = {
      query: (text, params) => (expired ? Promise.reject(expired) : inner.query(text, params)),
      exec: (text) => (expired ? Promise.reject(expired) : inner.exec(text)),
    };
    if (db.driver === 'pg') {
      await tx.query(sql.timeouts, [
        String(bounds.fencedIdleTimeoutMs),
        String(bounds.fencedStatementTimeoutMs),
      ]);
    }
    await assertEpoch(tx, fence);
    const result = await fn(tx);
    // The lock may have been lost while `fn` ran (a zombie that ignores its abort): the
    // epoch cannot have moved (the bump waits for this transaction), the lock can.
    await checkTerm(tx, fence);
    return result;
  });
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      expired = new FenceDeadlineError(fence.key, fence.epoch, bounds.fencedDeadlineMs);
      reject(expired);
    }, bounds.fencedDeadlineMs);
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
    // A transaction abandoned at its deadline ends (or fails) on its own; nobody awaits it.
    work.catch(() => {});
  }
}
