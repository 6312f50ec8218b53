// The garbage collector's audit: from its recorded deletions, any of an object whose resource
// exists (an owned object deleted: the one thing the collector must never do), or of one
// deleted before it had been an orphan for the grace. Tests and drills judge it with this.

import type { Queryable } from '../../ha/db/database.js';
import { loadText } from '../../ha/db/sql-loader.js';

const SQL = { deletions: loadText(new URL('./sql/audit-deletions.sql', import.meta.url)) };

/** One recorded deletion as the audit reads it. */
export interface GcDeletion {
  readonly collection: string;
  readonly backendId: string;
  readonly resourceId: string;
  readonly firstSeenMs: number;
  readonly deletedMs: number;
  /** Whether the resource its label names exists now. */
  readonly resourceExists: boolean;
}

export interface GcViolation {
  readonly type: 'owned' | 'early';
  readonly deletion: GcDeletion;
}

/** The deletions that break the collector's rules: empty when every one was of an orphan past its grace. */
export function gcViolations(deletions: readonly GcDeletion[], graceMs: number): GcViolation[] {
  const out: GcViolation[] = [];
  for (const d of deletions) {
    if (d.resourceExists) out.push({ type: 'owned', deletion: d });
    else if (d.deletedMs - d.firstSeenMs < graceMs) out.push({ type: 'early', deletion: d });
  }
  return out;
}

/** Every recorded deletion. */
export async function readGcDeletions(db: Queryable): Promise<GcDeletion[]> {
  const res = await db.query(SQL.deletions);
  return res.rows.map((r) => ({
    collection: r.backend as string,
    backendId: r.backend_id as string,
    resourceId: r.resource_id as string,
    firstSeenMs: Number(r.first_seen_ms),
    deletedMs: Number(r.deleted_ms),
    resourceExists: r.resource_exists === true,
  }));
}
