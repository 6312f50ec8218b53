import type { Queryable } from '../../ha/db/database.js';
import { loadText } from '../../ha/db/sql-loader.js';
import type { Lifetime, UsageMinute } from './audit.js';

const SQL = {
  rows: loadText(new URL('./sql/audit-rows.sql', import.meta.url)),
  lifetimes: loadText(new URL('./sql/audit-lifetimes.sql', import.meta.url)),
};

/** The recorded minutes and the lifetimes, as {@link accountingViolations} takes them. */
export async function readAccounting(db: Queryable): Promise<{ rows: UsageMinute[]; lifetimes: Lifetime[] }> {
  const [rows, lifetimes] = await Promise.all([db.query(SQL.rows), db.query(SQL.lifetimes)]);
  return {
    rows: rows.rows.map((r) => ({
      resourceId: r.resource_id as string,
      minute: Number(r.minute),
      writes: Number(r.writes),
    })),
    lifetimes: lifetimes.rows.map((r) => ({
      resourceId: r.resource_id as string,
      createdAt: Number(r.created_at),
      ...(r.deleted_at == null ? {} : { deletedAt: Number(r.deleted_at) }),
    })),
  };
}
