import type { Queryable } from '../../ha/db/database.js';
import { loadText } from '../../ha/db/sql-loader.js';
import type { RecordedSlot } from './audit.js';

const SQL = { slots: loadText(new URL('./sql/audit-slots.sql', import.meta.url)) };

/** Every recorded slot, as {@link cronViolations} takes them, with its state. */
export async function readCronSlots(db: Queryable): Promise<(RecordedSlot & { state: string })[]> {
  const res = await db.query(SQL.slots);
  return res.rows.map((r) => ({
    jobId: r.cron_job_id as string,
    slot: Number(r.slot_ms),
    writes: Number(r.writes),
    state: r.state as string,
  }));
}
