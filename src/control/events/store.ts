// Reads of the event log (written by the trigger of migration 0011). Every read is bounded by a
// horizon (./horizon.ts): ids are drawn before their transactions commit, so only ids below the
// horizon are final.

import type { Resource } from '../../core/resources/resource.js';
import type { Queryable, Row } from '../../ha/db/database.js';
import { loadText } from '../../ha/db/sql-loader.js';
import { toResource } from '../store.js';

const sql = (name: string) => loadText(new URL(`../sql/${name}.sql`, import.meta.url));
const SQL = {
  listEvents: sql('list-events'),
  listLatestEvents: sql('list-latest-events'),
  readEvents: sql('read-events'),
  prunedUpTo: sql('events-pruned-up-to'),
  pruneEvents: sql('prune-events'),
};

/** How long events are kept by default: 7 days. */
export const DEFAULT_EVENT_RETENTION_MS = 7 * 24 * 60 * 60 * 1000;

/** What happened to the resource. */
export type EventType =
  | 'Created'
  | 'SpecChanged'
  | 'LabelsChanged'
  | 'StatusChanged'
  | 'DeletionRequested'
  | 'Deleted';

/** One write of a resource, as the log keeps it. */
export interface ResourceEvent {
  /** Grows with every event; the cursor of listings and of the watch stream. */
  readonly id: number;
  readonly time: string;
  readonly tenant: string;
  readonly kind: string;
  readonly resourceId: string;
  readonly name: string;
  readonly type: EventType;
  readonly generation: number;
  readonly resourceVersion: string;
  readonly phase: string | null;
  /** The Ready condition's reason and message after the write. */
  readonly reason: string | null;
  readonly message: string | null;
  /** The resource after the write (as it was, for Deleted). */
  readonly resource: Resource;
}

/** Which events a reader wants. */
export interface EventFilter {
  readonly tenant: string;
  readonly kind?: string;
  readonly resourceId?: string;
}

const iso = (value: unknown): string =>
  (value instanceof Date ? value : new Date(String(value))).toISOString();

function toEvent(row: Row): ResourceEvent {
  return {
    id: Number(row.id),
    time: iso(row.time),
    tenant: row.tenant as string,
    kind: row.kind as string,
    resourceId: row.resource_id as string,
    name: row.name as string,
    type: row.type as EventType,
    generation: Number(row.generation),
    resourceVersion: String(row.resource_version),
    phase: (row.phase as string | null) ?? null,
    reason: (row.reason as string | null) ?? null,
    message: (row.message as string | null) ?? null,
    resource: toResource(row.resource as Row),
  };
}

/** Whether `event` passes `filter`. */
export function matches(filter: EventFilter, event: ResourceEvent): boolean {
  return (
    event.tenant === filter.tenant &&
    (filter.kind === undefined || event.kind === filter.kind) &&
    (filter.resourceId === undefined || event.resourceId === filter.resourceId)
  );
}

/** The newest `limit` events of the filter with `id <= upTo`, by id (oldest of them first). */
export async function listLatestEvents(
  q: Queryable,
  filter: EventFilter,
  upTo: number,
  limit: number,
): Promise<ResourceEvent[]> {
  const res = await q.query(SQL.listLatestEvents, [
    filter.tenant,
    upTo,
    filter.kind ?? null,
    limit,
    filter.resourceId ?? null,
  ]);
  return res.rows.map(toEvent).reverse();
}

/** Up to `limit` events of the filter with `after < id <= upTo`, by id. */
export async function listEvents(
  q: Queryable,
  filter: EventFilter,
  after: number,
  upTo: number,
  limit: number,
): Promise<ResourceEvent[]> {
  const res = await q.query(SQL.listEvents, [
    filter.tenant,
    after,
    upTo,
    filter.kind ?? null,
    filter.resourceId ?? null,
    limit,
  ]);
  return res.rows.map(toEvent);
}

/** Up to `limit` events of every tenant with `after < id <= upTo`, by id. */
export async function readEvents(
  q: Queryable,
  after: number,
  upTo: number,
  limit: number,
): Promise<ResourceEvent[]> {
  const res = await q.query(SQL.readEvents, [after, upTo, limit]);
  return res.rows.map(toEvent);
}

/** The highest id retention removed (0 when none): a cursor below it has lost events. */
export async function prunedUpTo(q: Queryable): Promise<number> {
  const res = await q.query(SQL.prunedUpTo);
  return Number(res.rows[0]?.up_to ?? 0);
}

/**
 * Removes events older than `olderThanMs` (at most `limit` of them, the oldest first, before
 * `now` in ms, which is never taken ahead of the database's clock); returns how many went and
 * the new pruned mark.
 */
export async function pruneEvents(
  q: Queryable,
  olderThanMs: number = DEFAULT_EVENT_RETENTION_MS,
  options: { readonly limit?: number; readonly now?: number } = {},
): Promise<{ removed: number; upTo: number }> {
  const res = await q.query(SQL.pruneEvents, [
    Math.max(0, Math.floor(olderThanMs)),
    options.limit ?? null,
    options.now ?? null,
  ]);
  return { removed: Number(res.rows[0]?.removed ?? 0), upTo: Number(res.rows[0]?.up_to ?? 0) };
}
