import type { Queryable } from '../db/database.js';
import { loadText } from '../db/sql-loader.js';

const countsSql = loadText(new URL('./sql/counts.sql', import.meta.url));

/** How many jobs the ledger holds in each unfinished state, and how many failed for good. */
export interface LedgerCounts {
  /** Running under a live lease. */
  readonly leased: number;
  /** Marked running, but the lease ran out (its worker died): the next copy takes it over. */
  readonly expired: number;
  /** Waiting for a scheduled retry (or a redrive not yet picked up). */
  readonly retrying: number;
  /** Failed for good: the dead letters. */
  readonly failed: number;
}

/** One snapshot of the ledger's counts, on the database clock. */
export async function readLedgerCounts(q: Queryable): Promise<LedgerCounts> {
  const r = (await q.query<Record<string, number>>(countsSql)).rows[0];
  return {
    leased: Number(r?.leased ?? 0),
    expired: Number(r?.expired ?? 0),
    retrying: Number(r?.retrying ?? 0),
    failed: Number(r?.failed ?? 0),
  };
}
