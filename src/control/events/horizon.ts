// The horizon of the event log: the highest id below which every event is final (committed and
// visible, or never to exist). An event id is drawn from a sequence inside its writer's
// transaction but becomes visible only when that transaction commits, possibly after a higher id
// that committed first: a reader that simply asks for `id > last` skips the late one for good.
//
// The horizon comes from transaction ids, as log-tailing readers do. A writer takes its xid
// before it draws an event id (the trigger asks for it first). So if `high` is the last id drawn
// and, read after it, `xmax` is the next xid to be assigned, every writer holding an id up to
// `high` has an xid below `xmax`. Once a later snapshot's `xmin` (the oldest xid still running)
// reaches `xmax`, all of them have finished, and every id up to `high` is final. One mark
// (high, xmax) is taken per call; marks wait until they are passed.
//
// Per resource, ids follow the order of writes: a second writer of a row waits for the first's
// row lock, so it draws its id after the first committed.

import type { Queryable } from '../../ha/db/database.js';
import { loadText } from '../../ha/db/sql-loader.js';

const sql = (name: string) => loadText(new URL(`../sql/${name}.sql`, import.meta.url));
const SQL = { high: sql('event-id-high'), snapshot: sql('event-snapshot') };

/** Marks kept while a long transaction holds xmin back; beyond it the oldest-but-one go. */
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
  readonly xmax: bigint;
}

/** A horizon starting at 0 (nothing final yet). */
export function createEventHorizon(): EventHorizon {
  let final = 0;
  let marks: Mark[] = [];
  return {
    current: () => final,
    async advance(q) {
      // Two statements, in this order: the snapshot must be taken after `high` was read.
      const high = Number((await q.query(SQL.high)).rows[0]?.high ?? 0);
      const snap = (await q.query(SQL.snapshot)).rows[0]!;
      const xmin = BigInt(snap.xmin as string);
      const xmax = BigInt(snap.xmax as string);
      const last = marks.at(-1);
      if (high > final && (last === undefined || high > last.high)) marks.push({ high, xmax });
      if (marks.length > MAX_MARKS) marks.splice(1, 1);
      const passed = marks.filter((m) => m.xmax <= xmin);
      if (passed.length > 0) {
        final = Math.max(final, ...passed.map((m) => m.high));
        marks = marks.filter((m) => m.xmax > xmin && m.high > final);
      }
      return final;
    },
  };
}
