// What the compute controllers (autoscaling, lb-sync, healing) read of the world: resources
// across tenants from the store, instances and their CPU from the compute backend. Reads only;
// every write goes through the resource service inside the term's fenced transaction.

import { getMaxListeners, setMaxListeners } from 'node:events';
import { iso, toResource } from '../../control/store.js';
import { isNotFoundError } from '../../core/errors/backend-errors.js';
import type { ComputePort, Instance } from '../../core/ports/compute.js';
import type { Resource } from '../../core/resources/resource.js';
import type { Queryable } from '../../ha/db/database.js';
import { loadText } from '../../ha/db/sql-loader.js';

const SQL = {
  ofKind: loadText(new URL('./sql/resources-of-kind.sql', import.meta.url)),
  childrenOf: loadText(new URL('./sql/children-of.sql', import.meta.url)),
  childViewsOf: loadText(new URL('./sql/child-views-of.sql', import.meta.url)),
  byIds: loadText(new URL('./sql/resources-by-ids.sql', import.meta.url)),
  ownedAmong: loadText(new URL('./sql/owned-among.sql', import.meta.url)),
  ownersNaming: loadText(new URL('./sql/owners-naming.sql', import.meta.url)),
  ofKindPage: loadText(new URL('./sql/resources-of-kind-page.sql', import.meta.url)),
};

/** Every resource of a kind, of every tenant. */
export async function resourcesOfKind(q: Queryable, kind: string): Promise<Resource[]> {
  return (await q.query(SQL.ofKind, [kind])).rows.map(toResource);
}

/**
 * Every resource of a kind, of every tenant, in pages of `size` by id: each page read when the
 * previous one is done with (a full pass in pages).
 */
export async function* pagesOfKind(q: Queryable, kind: string, size: number): AsyncGenerator<Resource[]> {
  let after = '';
  for (;;) {
    const page = (await q.query(SQL.ofKindPage, [kind, after, size])).rows.map(toResource);
    if (page.length > 0) yield page;
    if (page.length < size) return;
    after = page.at(-1)!.id;
  }
}

/** The resources of these kinds with these ids (those that still exist), of every tenant, by id. */
export async function resourcesByIds(
  q: Queryable,
  kinds: string | readonly string[],
  ids: Iterable<string>,
): Promise<Resource[]> {
  const list = [...ids];
  if (list.length === 0) return [];
  return (await q.query(SQL.byIds, [list, typeof kinds === 'string' ? [kinds] : kinds])).rows.map(toResource);
}

/**
 * The owners of these kinds that may name one of the load balancers `lbIds` (`spec.loadBalancer.id`,
 * or a cluster's `outputs.loadBalancer`), not being deleted: a superset the caller filters.
 */
export async function ownersNaming(
  q: Queryable,
  kinds: readonly string[],
  lbIds: Iterable<string>,
): Promise<Resource[]> {
  const list = [...lbIds];
  if (list.length === 0) return [];
  return (await q.query(SQL.ownersNaming, [list, kinds])).rows.map(toResource);
}

/** Which of `ids` an owner of one of `ownerKinds` owns. */
export async function ownedAmong(
  q: Queryable,
  ids: Iterable<string>,
  ownerKinds: readonly string[],
): Promise<Set<string>> {
  const list = [...ids];
  if (list.length === 0) return new Set();
  return new Set((await q.query<{ id: string }>(SQL.ownedAmong, [list, ownerKinds])).rows.map((r) => r.id));
}

/** The children of some owners, by owner id. */
export async function childrenOf(q: Queryable, owners: readonly string[]): Promise<Map<string, Resource[]>> {
  const byOwner = new Map<string, Resource[]>(owners.map((id) => [id, []]));
  if (owners.length === 0) return byOwner;
  for (const row of (await q.query(SQL.childrenOf, [owners])).rows) {
    const child = toResource(row);
    byOwner.get(child.owner!)?.push(child);
  }
  return byOwner;
}

/**
 * What lb-sync and autoscaling read of a child resource: whether it serves and where, its name
 * (its slot). A Resource is one.
 */
export interface ChildView {
  readonly id: string;
  readonly kind: string;
  readonly name: string;
  readonly owner?: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly deletionRequestedAt: string | null;
  readonly status: { readonly phase: string; readonly outputs?: Readonly<Record<string, unknown>> };
}

/**
 * {@link childrenOf} as views: only the columns a view holds are read and parsed, a third of
 * the cost of whole rows at 10,000 children.
 */
export async function childViewsOf(
  q: Queryable,
  owners: readonly string[],
): Promise<Map<string, ChildView[]>> {
  const byOwner = new Map<string, ChildView[]>(owners.map((id) => [id, []]));
  if (owners.length === 0) return byOwner;
  for (const row of (await q.query(SQL.childViewsOf, [owners])).rows) {
    const outputs: Record<string, string> = {};
    if (row.address != null) outputs.address = row.address as string;
    if (row.backend_id != null) outputs.backendId = row.backend_id as string;
    byOwner.get(row.owner_id as string)?.push({
      id: row.id as string,
      kind: row.kind as string,
      name: row.name as string,
      owner: row.owner_id as string,
      labels: row.labels as Record<string, string>,
      deletionRequestedAt: row.deletion_requested_at == null ? null : iso(row.deletion_requested_at),
      status: { phase: row.phase as string, outputs },
    });
  }
  return byOwner;
}

/** Page size of the backend listing. */
const PAGE = 500;

/** Every instance of the compute backend, by backend id. */
export async function backendInstances(
  compute: ComputePort,
  signal: AbortSignal,
): Promise<Map<string, Instance>> {
  const out = new Map<string, Instance>();
  let cursor: string | undefined;
  do {
    const page = await compute.listInstances({ signal, limit: PAGE, ...(cursor ? { cursor } : {}) });
    for (const i of page.items) out.set(i.id, i);
    cursor = page.nextCursor;
  } while (cursor);
  return out;
}

/** Backend reads in flight at once in {@link runningOf}. */
const GETS_IN_FLIGHT = 32;

/** Above this many instances, {@link runningOf} lists the backend instead of reading each. */
export const READ_EACH_UP_TO = 200;

/**
 * The backend ids of these instance resources that run in the backend: a read of each when
 * they are few (a scoped pass's), the whole listing otherwise. With `listed` (a listing taken
 * earlier in the pass), only those it did not show running are read again, when few.
 */
export async function runningOf(
  compute: ComputePort,
  instances: readonly ChildView[],
  signal: AbortSignal,
  listed?: ReadonlySet<string>,
): Promise<Set<string>> {
  let ids = [...new Set(instances.map(backendIdOf).filter((id): id is string => id !== undefined))];
  const running = new Set<string>();
  if (listed !== undefined) {
    for (const id of ids) if (listed.has(id)) running.add(id);
    ids = ids.filter((id) => !listed.has(id));
    if (ids.length > READ_EACH_UP_TO) return running;
  } else if (ids.length > READ_EACH_UP_TO) return listedRunning(compute, signal);
  // Each read in flight listens to the pass's signal.
  if (ids.length > 0) setMaxListeners(Math.max(getMaxListeners(signal), GETS_IN_FLIGHT + 10), signal);
  for (let at = 0; at < ids.length; at += GETS_IN_FLIGHT) {
    const got = await Promise.all(
      ids.slice(at, at + GETS_IN_FLIGHT).map((id) =>
        compute.getInstance(id, { signal }).catch((err: unknown) => {
          if (isNotFoundError(err)) return undefined;
          throw err;
        }),
      ),
    );
    for (const i of got) if (i?.state === 'running') running.add(i.id);
  }
  return running;
}

/** The ids of the instances the backend lists as running (the whole listing). */
export async function listedRunning(compute: ComputePort, signal: AbortSignal): Promise<Set<string>> {
  const running = new Set<string>();
  for (const i of (await backendInstances(compute, signal)).values())
    if (i.state === 'running') running.add(i.id);
  return running;
}

/** The backend id a reconcile pass recorded for an instance resource. */
export function backendIdOf(instance: {
  readonly status: { readonly outputs?: unknown };
}): string | undefined {
  const id = (instance.status.outputs as { backendId?: unknown } | undefined)?.backendId;
  return typeof id === 'string' && id !== '' ? id : undefined;
}

/**
 * One CPU sample of an instance in percent: the first item of its stats stream, which is then
 * closed. Undefined when the instance is gone.
 */
export async function cpuPercent(
  compute: ComputePort,
  backendId: string,
  signal: AbortSignal,
): Promise<number | undefined> {
  try {
    const stream = await compute.streamStats(backendId, { signal });
    const iterator = stream[Symbol.asyncIterator]();
    try {
      const first = await iterator.next();
      return first.done ? undefined : first.value.cpu * 100;
    } finally {
      await iterator.return?.();
    }
  } catch (err) {
    if (isNotFoundError(err)) return undefined;
    throw err;
  }
}

/** The slot of a child named `<owner name>-<slot>`, or undefined for another name. */
export function slotOf(ownerName: string, childName: string): number | undefined {
  const prefix = `${ownerName}-`;
  if (!childName.startsWith(prefix)) return undefined;
  const rest = childName.slice(prefix.length);
  return /^(0|[1-9][0-9]{0,2})$/.test(rest) ? Number(rest) : undefined;
}

/** The name of the child in `slot`. */
export function childName(ownerName: string, slot: number): string {
  return `${ownerName}-${slot}`;
}
