// The cron controller's statements: the jobs and their watermarks, the slots it records before
// their calls, the calls still pending, and each attempt's outcome.
import type { Queryable } from '../../ha/db/database.js';
import { loadText } from '../../ha/db/sql-loader.js';
import type { CronJobSpecT } from '../../kinds/cron-jobs/index.js';
import type { Cursor } from './plan.js';

const SQL = {
  jobs: loadText(new URL('./sql/list-jobs.sql', import.meta.url)),
  record: loadText(new URL('./sql/record-slots.sql', import.meta.url)),
  move: loadText(new URL('./sql/move-cursors.sql', import.meta.url)),
  pending: loadText(new URL('./sql/pending-slots.sql', import.meta.url)),
  finish: loadText(new URL('./sql/finish-slot.sql', import.meta.url)),
};

/** A cron job as a pass reads it. */
export interface CronJobRow {
  readonly id: string;
  readonly tenant: string;
  readonly spec: CronJobSpecT;
  readonly createdAt: number;
  readonly updatedAt: number;
  readonly cursor: Cursor | undefined;
}

/** The call a slot makes, as recorded with it. */
export interface SlotCall {
  readonly method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  readonly url: string;
  readonly body?: string;
  readonly source: string;
}

/** The pipeline run a slot starts, as recorded with it. */
export interface SlotRun {
  readonly pipeline: string;
  readonly source: string;
}

/** What a slot does. */
export type SlotRequest = SlotCall | SlotRun;

/** Whether a slot starts a pipeline run. */
export function isSlotRun(request: SlotRequest): request is SlotRun {
  return 'pipeline' in request;
}

/** A slot to record. */
export interface NewSlot {
  readonly jobId: string;
  readonly tenant: string;
  readonly slot: number;
  readonly request: SlotRequest;
  readonly caughtUp: boolean;
}

/** A watermark to move. */
export interface CursorMove extends Cursor {
  readonly jobId: string;
  readonly tenant: string;
  readonly skipped: number;
}

/** A recorded slot whose call has not finished. */
export interface PendingSlot {
  readonly jobId: string;
  readonly tenant: string;
  readonly slot: number;
  readonly request: SlotRequest;
  readonly clientToken: string;
  readonly attempts: number;
}

/** The client token of a slot's call: the same from every leader, so it is delivered once. */
export function slotToken(jobId: string, slot: number): string {
  return `cron/${jobId}/${new Date(slot).toISOString()}`;
}

/** Every cron job not being deleted. */
export async function listCronJobs(db: Queryable): Promise<CronJobRow[]> {
  const res = await db.query(SQL.jobs);
  return res.rows.map((r) => ({
    id: r.id as string,
    tenant: r.tenant as string,
    spec: r.spec as CronJobSpecT,
    createdAt: Number(r.created_ms),
    updatedAt: Number(r.updated_ms),
    cursor:
      r.decided_ms == null
        ? undefined
        : {
            decidedTo: Number(r.decided_ms),
            schedule: r.schedule as string,
            timeZone: r.time_zone as string,
            paused: r.paused as boolean,
          },
  }));
}

/** Records slots and moves watermarks: call both in one fenced transaction. */
export async function recordSlots(
  tx: Queryable,
  slots: readonly NewSlot[],
  moves: readonly CursorMove[],
  epoch: number,
): Promise<void> {
  if (slots.length > 0)
    await tx.query(SQL.record, [
      slots.map((s) => s.jobId),
      slots.map((s) => s.slot),
      slots.map((s) => s.tenant),
      slots.map((s) => JSON.stringify(s.request)),
      slots.map((s) => slotToken(s.jobId, s.slot)),
      slots.map((s) => s.caughtUp),
      epoch,
    ]);
  if (moves.length > 0)
    await tx.query(SQL.move, [
      moves.map((m) => m.jobId),
      moves.map((m) => m.tenant),
      moves.map((m) => m.decidedTo),
      moves.map((m) => m.schedule),
      moves.map((m) => m.timeZone),
      moves.map((m) => m.paused),
      moves.map((m) => m.skipped),
      epoch,
    ]);
}

/** The oldest recorded slots whose call has not finished. */
export async function pendingSlots(db: Queryable, limit: number): Promise<PendingSlot[]> {
  const res = await db.query(SQL.pending, [limit]);
  return res.rows.map((r) => ({
    jobId: r.cron_job_id as string,
    tenant: r.tenant as string,
    slot: Number(r.slot_ms),
    request: r.request as SlotRequest,
    clientToken: r.client_token as string,
    attempts: Number(r.attempts),
  }));
}

/** One attempt's outcome. */
export interface SlotOutcome {
  readonly state: 'pending' | 'succeeded' | 'failed';
  readonly epoch: number;
  readonly httpStatus: number | undefined;
  readonly error: string | undefined;
  readonly durationMs: number;
}

/** Records an attempt's outcome (in a fenced transaction); false when the slot was finished already. */
export async function finishSlot(
  tx: Queryable,
  jobId: string,
  slot: number,
  o: SlotOutcome,
): Promise<boolean> {
  const res = await tx.query(SQL.finish, [
    jobId,
    slot,
    o.state,
    o.epoch,
    o.httpStatus ?? null,
    o.error ?? null,
    o.durationMs,
  ]);
  return (res.rowCount ?? 0) > 0;
}
