import type { Queryable } from '../../ha/db/database.js';
import { loadText } from '../../ha/db/sql-loader.js';
import type { MinutePrice } from './prices.js';

const SQL = { record: loadText(new URL('./sql/record-minutes.sql', import.meta.url)) };

/** One batch's parameters. */
export interface RecordBatch {
  /** The pass's clock (ms since the Unix epoch), or undefined for the database's. */
  readonly at: number | undefined;
  readonly minuteMs: number;
  readonly epoch: number;
  readonly prices: readonly MinutePrice[];
  readonly lifetimes: number;
  readonly minutes: number;
}

/** What one batch did. */
export interface RecordedBatch {
  /** Lifetimes whose watermark it moved (or closed). */
  readonly lifetimes: number;
  /** Minutes it recorded. */
  readonly inserted: number;
  /** Minutes it found recorded already (a double: never expected, counted by the audit). */
  readonly rewritten: number;
  /** Lifetimes still owing ended minutes after it (the per-lifetime bound stopped them). */
  readonly behind: number;
  /** Start of the current minute: every minute before it is over. */
  readonly cutoffMs: number;
  /** The oldest minute still owed by a lifetime of this batch, if any. */
  readonly oldestMs: number | undefined;
}

/** Records one bounded batch of ended minutes; call it inside the term's fenced transaction. */
export async function recordMinutes(tx: Queryable, b: RecordBatch): Promise<RecordedBatch> {
  const res = await tx.query(SQL.record, [
    b.at === undefined ? null : new Date(b.at),
    b.minuteMs,
    b.lifetimes,
    b.minutes,
    b.epoch,
    b.prices.map((p) => p.kind),
    b.prices.map((p) => p.size ?? null),
    b.prices.map((p) => p.price.toFixed(10)),
  ]);
  const row = res.rows[0]!;
  return {
    lifetimes: Number(row.lifetimes),
    inserted: Number(row.inserted),
    rewritten: Number(row.rewritten),
    behind: Number(row.behind),
    cutoffMs: Number(row.cutoff_ms),
    oldestMs: row.oldest_ms == null ? undefined : Number(row.oldest_ms),
  };
}
