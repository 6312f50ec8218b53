// Reads of the recorded usage, for `GET /v1/usage` and `GET /v1/billing/summary`: always of one
// tenant, which the caller takes from the request's key.
import type { Queryable } from '../../ha/db/database.js';
import { loadText } from '../../ha/db/sql-loader.js';

const SQL = {
  list: loadText(new URL('./sql/list-usage.sql', import.meta.url)),
  summary: loadText(new URL('./sql/billing-summary.sql', import.meta.url)),
};

/** One recorded minute of one resource. */
export interface UsageRecord {
  readonly resourceId: string;
  readonly kind: string;
  readonly size: string | null;
  /** Start of the minute. */
  readonly minute: string;
  readonly minuteMs: number;
  /** US dollars. */
  readonly price: number;
}

/** Which minutes: all filters optional, `from` inclusive, `to` exclusive. */
export interface UsageQuery {
  readonly tenant: string;
  readonly resourceId?: string;
  readonly kind?: string;
  readonly from?: Date;
  readonly to?: Date;
  /** Only minutes after this (minute, resource) pair. */
  readonly after?: { readonly minute: Date; readonly resourceId: string };
  readonly limit: number;
}

/** One line of a summary. */
export interface BillingLine {
  readonly kind: string;
  readonly size: string | null;
  readonly minutes: number;
  readonly amount: number;
}

const iso = (v: unknown): string => (v instanceof Date ? v : new Date(String(v))).toISOString();

/** Reads a tenant's recorded minutes and charges. */
export interface UsageStore {
  list(q: UsageQuery): Promise<UsageRecord[]>;
  summary(tenant: string, from: Date, to: Date): Promise<BillingLine[]>;
}

export function createUsageStore(db: Queryable): UsageStore {
  return {
    async list(q) {
      const res = await db.query(SQL.list, [
        q.tenant,
        q.resourceId ?? null,
        q.kind ?? null,
        q.from ?? null,
        q.to ?? null,
        q.after?.minute ?? null,
        q.after?.resourceId ?? null,
        q.limit,
      ]);
      return res.rows.map((r) => ({
        resourceId: r.resource_id as string,
        kind: r.kind as string,
        size: (r.size as string | null) ?? null,
        minute: iso(r.minute),
        minuteMs: Number(r.minute_ms),
        price: Number(r.price),
      }));
    },
    async summary(tenant, from, to) {
      const res = await db.query(SQL.summary, [tenant, from, to]);
      return res.rows.map((r) => ({
        kind: r.kind as string,
        size: (r.size as string | null) ?? null,
        minutes: Number(r.minutes),
        amount: Number(r.amount),
      }));
    },
  };
}
