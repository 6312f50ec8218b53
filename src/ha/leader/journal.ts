import type { Queryable } from '../db/database.js';
import { loadText } from '../db/sql-loader.js';

const sql = {
  terms: loadText(new URL('./sql/read-terms.sql', import.meta.url)),
  journal: loadText(new URL('./sql/read-journal.sql', import.meta.url)),
  recent: loadText(new URL('./sql/read-recent-journal.sql', import.meta.url)),
  current: loadText(new URL('./sql/read-current-terms.sql', import.meta.url)),
};

/** The current term row of a key. */
export interface TermRow {
  keyId: number;
  key: string;
  epoch: number;
  holder: string;
  backendPid: number;
  updatedAt: Date;
}

/** One term in the leadership journal. */
export interface JournalEntry {
  keyId: number;
  key: string;
  epoch: number;
  holder: string;
  backendPid: number;
  acquiredAt: Date;
  /** Null while the term is open (or its holder died and no successor has closed it yet). */
  endedAt: Date | null;
  /** `superseded` (closed by the next leader), or the reason its holder stepped down. */
  reason: string | null;
}

type Raw = Record<string, unknown>;

/** The columns a term row and a journal entry share. */
function termOf(r: Raw): Omit<TermRow, 'updatedAt'> {
  return {
    keyId: Number(r.key_id),
    key: String(r.key),
    epoch: Number(r.epoch),
    holder: String(r.holder),
    backendPid: Number(r.backend_pid),
  };
}

/** Every key's current term row. */
export async function readTerms(db: Queryable): Promise<TermRow[]> {
  const res = await db.query<Raw>(sql.terms);
  return res.rows.map((r) => ({ ...termOf(r), updatedAt: r.updated_at as Date }));
}

function entryOf(r: Raw): JournalEntry {
  return {
    ...termOf(r),
    acquiredAt: r.acquired_at as Date,
    endedAt: (r.ended_at as Date | null) ?? null,
    reason: (r.reason as string | null) ?? null,
  };
}

/** Every key's current term, with when it began and whether it ended (null: not journaled). */
export async function readCurrentTerms(
  db: Queryable,
): Promise<(TermRow & { acquiredAt: Date | null; endedAt: Date | null })[]> {
  const res = await db.query<Raw>(sql.current);
  return res.rows.map((r) => ({
    ...termOf(r),
    updatedAt: r.updated_at as Date,
    acquiredAt: (r.acquired_at as Date | null) ?? null,
    endedAt: (r.ended_at as Date | null) ?? null,
  }));
}

/** The newest `limit` journal entries, of the key named `key` when given, newest first. */
export async function readRecentJournal(
  db: Queryable,
  filter: { key?: string; limit: number },
): Promise<JournalEntry[]> {
  const res = await db.query<Raw>(sql.recent, [filter.key ?? null, filter.limit]);
  return res.rows.map(entryOf);
}

/** Journal entries in order of acquisition, optionally of one key and since a time. */
export async function readJournal(
  db: Queryable,
  filter: { keyId?: number; since?: Date; limit?: number } = {},
): Promise<JournalEntry[]> {
  const res = await db.query<Raw>(sql.journal, [
    filter.keyId ?? null,
    filter.since ?? new Date(0),
    filter.limit ?? 10_000,
  ]);
  return res.rows.map(entryOf);
}
