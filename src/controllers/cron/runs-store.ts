// Reads of a cron job's runs, for `GET /v1/cron-jobs/:id/runs`: always of one tenant, which the
// caller takes from the request's key.
import type { Queryable } from '../../ha/db/database.js';
import { loadText } from '../../ha/db/sql-loader.js';

const SQL = {
  list: loadText(new URL('./sql/list-runs.sql', import.meta.url)),
  job: loadText(new URL('./sql/job-of-tenant.sql', import.meta.url)),
};

/** One slot of a cron job and what its call did. */
export interface CronRun {
  /** The slot's time. */
  readonly slot: string;
  /** pending (recorded, call not finished), succeeded, failed. */
  readonly state: string;
  readonly attempts: number;
  /** Fired late by catch-up. */
  readonly caughtUp: boolean;
  readonly recordedAt: string;
  readonly finishedAt: string | null;
  readonly durationMs: number | null;
  readonly httpStatus: number | null;
  readonly error: string | null;
}

const iso = (v: unknown): string => (v instanceof Date ? v : new Date(String(v))).toISOString();

/** Reads a tenant's cron runs. */
export interface CronRunStore {
  /** Whether the tenant has this cron job. */
  exists(tenant: string, id: string): Promise<boolean>;
  /** Runs newest first, before `before` when given. */
  list(tenant: string, id: string, before: Date | undefined, limit: number): Promise<CronRun[]>;
}

export function createCronRunStore(db: Queryable): CronRunStore {
  return {
    async exists(tenant, id) {
      return (await db.query(SQL.job, [id, tenant])).rows.length > 0;
    },
    async list(tenant, id, before, limit) {
      const res = await db.query(SQL.list, [id, tenant, before ?? null, limit]);
      return res.rows.map((r) => ({
        slot: iso(r.slot),
        state: r.state as string,
        attempts: Number(r.attempts),
        caughtUp: r.caught_up as boolean,
        recordedAt: iso(r.recorded_at),
        finishedAt: r.finished_at == null ? null : iso(r.finished_at),
        durationMs: r.duration_ms == null ? null : Number(r.duration_ms),
        httpStatus: r.http_status == null ? null : Number(r.http_status),
        error: (r.error as string | null) ?? null,
      }));
    },
  };
}
