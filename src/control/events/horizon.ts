// The horizon of the event log: the highest id below which every event is final (committed and
// visible, or never to exist). An event id is drawn from a sequence inside its writer's
// transaction but becomes visible only when that transaction commits, possibly after a higher id
// that committed first: a reader that simply asks for `id > last` skips the late one for good
// (test/events/watch.test.ts shows it).
//
// Every writer of events takes a shared transaction-scoped advisory lock before it draws an id
// and keeps it until it ends (the trigger of migration 0011). A mark reads the last id drawn,
// `high`, and then the holders of that lock, as virtual transaction ids: every writer holding an
// id up to `high` is finished or among them. Once none of them holds the lock any more, every id
// up to `high` is final. Virtual transaction ids are per database, so a long transaction in
// another database of the same server holds nothing back (a horizon from xids would: the
// snapshot's xmin is server-wide).
//
// Per resource, ids follow the order of writes: a second writer of a row waits for the first's
// row lock, so it draws its id after the first committed.

import type { Queryable } from '../../ha/db/database.js';
import { loadText } from '../../ha/db/sql-loader.js';

const sql = (name: string) => loadText(new URL(`../sql/${name}.sql`, import.meta.url));
const SQL = { high: sql('event-id-high'), writers: sql('event-writers') };

/** Marks kept while a long writer holds the horizon back; beyond it the oldest-but-one go. */
const MAX_MARKS = 256;

/** The horizon of one process's readers. */
export interface EventHorizon {
  /** Takes a new mark and returns the horizon as it now stands. */
  advance(q: Queryable): Promise<number>;
  /** The horizon as last computed. */
  current(): number;
}

interface Mark {
  readonly high: number;
  /** Writers that may hold an id up to `high`. */
  readonly writers: readonly string[];
}

/** A horizon starting at 0 (nothing final yet). */
export function createEventHorizon(): EventHorizon {
  let final = 0;
  let marks: Mark[] = [];
  return {
    current: () => final,
    async advance(q) {
      // Two statements, in this order: the writers must be read after `high`.
      const high = Number((await q.query(SQL.high)).rows[0]?.high ?? 0);
      const running = new Set((await q.query(SQL.writers)).rows[0]?.writers as string[]);
      const last = marks.at(-1);
      if (high > final && (last === undefined || high > last.high))
        marks.push({ high, writers: [...running] });
      if (marks.length > MAX_MARKS) marks.splice(1, 1);
      // A mark passes when none of its writers is still running.
      const passed = marks.filter((m) => m.writers.every((w) => !running.has(w)));
      if (passed.length > 0) final = Math.max(final, ...passed.map((m) => m.high));
      marks = marks.filter((m) => m.high > final);
      return final;
    },
  };
}
