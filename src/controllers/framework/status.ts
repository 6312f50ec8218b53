import type { Database, Row } from '../../ha/db/database.js';
import { loadText } from '../../ha/db/sql-loader.js';

const SQL = {
  record: loadText(new URL('./sql/record-status.sql', import.meta.url)),
  list: loadText(new URL('./sql/list-status.sql', import.meta.url)),
};

/** One pass as its leader reports it. */
export interface PassReport {
  readonly controller: string;
  readonly leader: string;
  readonly epoch: number;
  readonly startedAt: number;
  readonly endedAt: number;
  readonly lagMs: number | undefined;
  /** The error's message when the pass threw. */
  readonly error: string | undefined;
}

/** A controller as `/v1/system/controllers` shows it: its leader's last report. */
export interface ControllerStatus {
  readonly name: string;
  /** Node id of the leader that reported last. */
  readonly leader: string;
  readonly epoch: number;
  readonly passes: number;
  readonly errors: number;
  readonly lastError: string | null;
  readonly lastErrorAt: string | null;
  readonly lastPassStartedAt: string;
  readonly lastPassEndedAt: string;
  readonly lastPassMs: number;
  readonly lagMs: number | null;
  readonly reportedAt: string;
}

/** Records one pass (ignored when a newer term already reported). */
export async function recordPass(db: Database, r: PassReport): Promise<void> {
  await db.query(SQL.record, [
    r.controller,
    r.leader,
    r.epoch,
    r.error === undefined ? 0 : 1,
    r.error ?? null,
    new Date(r.startedAt),
    new Date(r.endedAt),
    r.endedAt - r.startedAt,
    r.lagMs ?? null,
  ]);
}

const iso = (v: unknown): string => (v instanceof Date ? v : new Date(String(v))).toISOString();

function toStatus(row: Row): ControllerStatus {
  return {
    name: row.name as string,
    leader: row.leader as string,
    epoch: Number(row.epoch),
    passes: Number(row.passes),
    errors: Number(row.errors),
    lastError: (row.last_error as string | null) ?? null,
    lastErrorAt: row.last_error_at == null ? null : iso(row.last_error_at),
    lastPassStartedAt: iso(row.pass_started_at),
    lastPassEndedAt: iso(row.pass_ended_at),
    lastPassMs: Number(row.pass_ms),
    lagMs: row.lag_ms == null ? null : Number(row.lag_ms),
    reportedAt: iso(row.reported_at),
  };
}

/** Every controller's last report. */
export async function listControllerStatus(db: Database): Promise<ControllerStatus[]> {
  const res = await db.query(SQL.list);
  return res.rows.map(toStatus);
}
