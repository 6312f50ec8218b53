// What the database controllers read and write of the databases kind: the resources with a
// backend cluster, and one status write per resource over the version it read.

import type { Condition, ResourceStatus } from '../../core/resources/resource.js';
import { setCondition } from '../../core/resources/resource.js';
import type { Queryable } from '../../ha/db/database.js';
import { loadText } from '../../ha/db/sql-loader.js';

const SQL = {
  list: loadText(new URL('./sql/list-databases.sql', import.meta.url)),
  write: loadText(new URL('./sql/write-status.sql', import.meta.url)),
};

/** The most databases one pass looks after. */
export const MAX_DATABASES_PER_PASS = 1_000;

/** A database resource as the controllers see it. */
export interface WatchedDatabase {
  readonly id: string;
  readonly generation: number;
  readonly resourceVersion: string;
  readonly status: ResourceStatus<{ backendId: string } & Record<string, unknown>>;
}

/** The databases that have a backend cluster. */
export async function listWatched(db: Queryable): Promise<WatchedDatabase[]> {
  const res = await db.query<{
    id: string;
    generation: string;
    resource_version: string;
    status: WatchedDatabase['status'];
  }>(SQL.list, [MAX_DATABASES_PER_PASS]);
  return res.rows.map((r) => ({
    id: r.id,
    generation: Number(r.generation),
    resourceVersion: String(r.resource_version),
    status: r.status,
  }));
}

/** A condition a controller sets, without its transition time. */
export type ConditionChange = Omit<Condition, 'lastTransitionTime' | 'observedGeneration'>;

/**
 * The status of `d` with `conditions` set and `outputs` merged in, or undefined when that is what
 * it is already (nothing to write: a pass over unchanged databases writes nothing).
 */
export function mergedStatus(
  d: WatchedDatabase,
  conditions: readonly ConditionChange[],
  outputs: Record<string, unknown>,
  now: Date,
): ResourceStatus | undefined {
  let next = [...d.status.conditions];
  for (const c of conditions) next = setCondition(next, { ...c, observedGeneration: d.generation }, now);
  const mergedOutputs = { ...d.status.outputs, ...outputs };
  // Compared with sorted keys: jsonb hands objects back in its own key order.
  const same =
    canonical(comparable(next)) === canonical(comparable(d.status.conditions)) &&
    canonical(mergedOutputs) === canonical(d.status.outputs);
  return same ? undefined : { ...d.status, conditions: next, outputs: mergedOutputs };
}

const comparable = (cs: readonly Condition[]) =>
  [...cs].sort((a, b) => a.type.localeCompare(b.type)).map(({ lastTransitionTime: _, ...c }) => c);

/** JSON with every object's keys sorted. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b)))
      : v,
  );
}

/** Writes `status` over the version of `d` that was read; false when it changed meanwhile. */
export async function writeStatus(
  tx: Queryable,
  d: WatchedDatabase,
  status: ResourceStatus,
): Promise<boolean> {
  const res = await tx.query(SQL.write, [d.id, d.resourceVersion, JSON.stringify(status)]);
  return res.rows.length === 1;
}
