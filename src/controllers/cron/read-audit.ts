import type { Queryable } from '../../ha/db/database.js';
import { loadText } from '../../ha/db/sql-loader.js';
import type { AuditedJob, RecordedSlot } from './audit.js';

const SQL = {
  slots: loadText(new URL('./sql/audit-slots.sql', import.meta.url)),
  jobs: loadText(new URL('./sql/audit-jobs.sql', import.meta.url)),
  downtime: loadText(new URL('./sql/audit-downtime.sql', import.meta.url)),
};

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

/** A stored cron job as the audit judges it, with what the audit cannot judge said. */
export interface StoredCronJob extends AuditedJob {
  /** Paused now, or its spec changed since its creation: its slots follow no one schedule. */
  readonly changed: boolean;
}

/** Every stored cron job, as {@link cronViolations} takes them. */
export async function readCronJobs(db: Queryable): Promise<StoredCronJob[]> {
  const res = await db.query(SQL.jobs);
  return res.rows.map((r) => ({
    id: r.id as string,
    schedule: r.schedule as string,
    ...(r.time_zone == null ? {} : { timeZone: r.time_zone as string }),
    ...(r.missed_slots == null ? {} : { missedSlots: r.missed_slots as 'skip' | 'catch-up' }),
    ...(r.max_catch_up == null ? {} : { maxCatchUp: Number(r.max_catch_up) }),
    from: Number(r.created_ms),
    ...(r.deletion_ms == null ? {} : { until: Number(r.deletion_ms) }),
    changed: r.paused === true || Number(r.generation) > 1,
  }));
}

/**
 * When no cron controller decided slots, from the leadership journal of `keyId`: for each term
 * after the first, from just after the last slot any earlier term recorded (or, with none, the
 * previous term's start) to the term's start. The audit's `downtime`.
 */
export async function readCronDowntime(db: Queryable, keyId: number): Promise<[number, number][]> {
  const res = await db.query(SQL.downtime, [keyId]);
  return res.rows.map((r) => {
    const start =
      r.last_slot_before_ms == null ? Number(r.previous_acquired_ms) : Number(r.last_slot_before_ms) + 1;
    return [start, Number(r.acquired_ms)];
  });
}
