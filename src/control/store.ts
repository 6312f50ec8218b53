// The one resource store: every kind's rows in one table, every statement in ./sql. Functions
// take a Queryable so the service can run several of them in one transaction.

import type { Resource, ResourceStatus } from '../core/resources/resource.js';
import type { Queryable, Row } from '../ha/db/database.js';
import { loadText } from '../ha/db/sql-loader.js';

const sql = (name: string) => loadText(new URL(`./sql/${name}.sql`, import.meta.url));
const SQL = {
  insertResource: sql('insert-resource'),
  createResource: sql('create-resource'),
  createInOneTrip: sql('create-in-one-trip'),
  createBatch: sql('create-batch'),
  getResource: sql('get-resource'),
  lockResource: sql('lock-resource'),
  loadResource: sql('load-resource'),
  listResources: sql('list-resources'),
  updateResource: sql('update-resource'),
  lockReference: sql('lock-reference'),
  referrers: sql('referrers'),
  referrerRows: sql('referrer-rows'),
  children: sql('children'),
  admissionLock: sql('admission-lock'),
  lockHeldDelete: sql('lock-held-delete'),
  tenantResources: sql('tenant-resources'),
  insertOperation: sql('insert-operation'),
  getOperation: sql('get-operation'),
  latestOperation: sql('latest-operation'),
  markOperation: sql('mark-operation'),
  beginPass: sql('begin-pass'),
  beginPasses: sql('begin-passes'),
  writeStatus: sql('write-status'),
  writeStatuses: sql('write-statuses'),
  finalizeDelete: sql('finalize-delete'),
  failDeadLettered: sql('fail-dead-lettered'),
  heldDeletesOf: sql('held-deletes-of'),
  failHeldDelete: sql('fail-held-delete'),
  reopenOperation: sql('reopen-operation'),
  redriveStatus: sql('redrive-status'),
  operationsOfJobs: sql('operations-of-jobs'),
};

/** State of an operation; all but pending and running are terminal. */
export type OperationState = 'pending' | 'running' | 'succeeded' | 'failed' | 'superseded';

/** What a mutation did. */
export type OperationVerb = 'create' | 'update' | 'delete' | 'action';

/** One accepted mutation and how it is going. */
export interface Operation {
  readonly id: string;
  readonly kind: string;
  readonly resourceId: string;
  readonly verb: OperationVerb;
  /** The action's name when `verb` is `action` (`stop`), null otherwise. */
  readonly action: string | null;
  /** The resource generation this operation applies. */
  readonly generation: number;
  readonly state: OperationState;
  /** Why it failed (or last failed, while retrying). */
  readonly error: { readonly reason: string; readonly message: string } | null;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly finishedAt: string | null;
}

/** Whether an operation has reached its end. */
export function isTerminal(state: OperationState): boolean {
  return state === 'succeeded' || state === 'failed' || state === 'superseded';
}

export const iso = (value: unknown): string =>
  (value instanceof Date ? value : new Date(String(value))).toISOString();

/** A resource from its row (or the row as `to_jsonb` gives it, as events store it). */
export function toResource(row: Row): Resource {
  return {
    id: row.id as string,
    kind: row.kind as string,
    tenant: row.tenant as string,
    name: row.name as string,
    labels: row.labels as Record<string, string>,
    spec: row.spec as Record<string, unknown>,
    status: row.status as ResourceStatus,
    generation: Number(row.generation),
    resourceVersion: String(row.resource_version),
    createdAt: iso(row.created_at),
    updatedAt: iso(row.updated_at),
    deletionRequestedAt: row.deletion_requested_at == null ? null : iso(row.deletion_requested_at),
    ...(row.owner_id == null ? {} : { owner: row.owner_id as string }),
  };
}

function toOperation(row: Row): Operation {
  return {
    id: row.id as string,
    kind: row.kind as string,
    resourceId: row.resource_id as string,
    verb: row.verb as OperationVerb,
    action: (row.action as string | null) ?? null,
    generation: Number(row.generation),
    state: row.state as OperationState,
    error: (row.error as Operation['error']) ?? null,
    createdAt: iso(row.created_at),
    updatedAt: iso(row.updated_at),
    finishedAt: row.finished_at == null ? null : iso(row.finished_at),
  };
}

const json = (value: unknown) => JSON.stringify(value);
/** SQL NULL for null, so that `error IS NULL` holds (a jsonb 'null' would not). */
const jsonOrNull = (value: unknown) => (value === null ? null : JSON.stringify(value));

/** A resource about to be inserted. */
export interface NewResource {
  readonly id: string;
  readonly tenant: string;
  readonly kind: string;
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly spec: unknown;
  readonly status: ResourceStatus<unknown>;
  readonly refIds: readonly string[];
  /** The owner of a child resource (its id belongs in `refIds` too). */
  readonly owner?: string;
}

/** Inserts at generation 1; undefined when the name is taken in the tenant and kind. */
export async function insertResource(q: Queryable, r: NewResource): Promise<Resource | undefined> {
  const res = await q.query(SQL.insertResource, [
    r.id,
    r.tenant,
    r.kind,
    r.name,
    json(r.labels),
    json(r.spec),
    json(r.status),
    r.refIds,
  ]);
  return res.rows[0] && toResource(res.rows[0]);
}

/**
 * Inserts a new resource with its operation and the outbox row of its job, in one statement.
 * Undefined (and nothing written) when the name is taken.
 */
export async function createResource(
  q: Queryable,
  r: NewResource,
  op: { readonly id: string; readonly verb: OperationVerb; readonly jobKey: string },
  jobBody: string,
): Promise<{ resource: Resource; operation: Operation } | undefined> {
  const res = await q.query(SQL.createResource, [
    r.id,
    r.tenant,
    r.kind,
    r.name,
    json(r.labels),
    json(r.spec),
    json(r.status),
    r.refIds,
    op.id,
    op.verb,
    op.jobKey,
    jobBody,
    r.owner ?? null,
  ]);
  const row = res.rows[0];
  if (!row) return undefined;
  const operation = toOperation({
    id: row.op_id,
    kind: row.kind,
    resource_id: row.id,
    verb: row.op_verb,
    generation: row.generation,
    state: row.op_state,
    error: row.op_error,
    created_at: row.op_created_at,
    updated_at: row.op_updated_at,
    finished_at: row.op_finished_at,
  });
  return { resource: toResource(row), operation };
}

/** PostgreSQL's lock_not_available, and the code `stratus_create_resource` refuses with. */
const LOCK_NOT_AVAILABLE = '55P03';
const CREATE_REFUSED = 'SC001';

/** What {@link createInOneTrip} needs besides the resource. */
export interface OneTripCreate {
  /** Every reference of the spec and the kind it must be, in the spec's order. */
  readonly references: readonly { readonly id: string; readonly kind: string }[];
  readonly operationId: string;
  readonly jobKey: string;
  readonly jobBody: string;
  /** The Idempotency-Key to claim: retention and how long to wait for its first request. */
  readonly idempotency?: {
    readonly key: string;
    readonly fingerprint: string;
    readonly ttlMs: number;
    /** A lock_timeout, e.g. `5000ms`. */
    readonly wait: string;
  };
  /** The answer's JSON around its database values (migration 0016 says which, in order). */
  readonly answer: readonly string[];
}

/** How {@link createInOneTrip} ended. */
export type OneTripOutcome =
  | { readonly outcome: 'created'; readonly resourceVersion: string; readonly answer: string }
  /** The key has a stored answer or another request in flight: nothing written. */
  | { readonly outcome: 'keyTaken' }
  /** A reference cannot be used or the name is taken: nothing written. */
  | { readonly outcome: 'refused' }
  /** The key's first request was still in flight after the wait: nothing written. */
  | { readonly outcome: 'keyBusy' };

/**
 * The common create in one statement (migration 0016): claims the key, key-share-locks the
 * references, inserts resource, operation and job, and stores the answer it returns. Every
 * outcome but `created` wrote nothing; the caller then takes the path of separate statements.
 */
export async function createInOneTrip(
  q: Queryable,
  r: NewResource,
  c: OneTripCreate,
): Promise<OneTripOutcome> {
  const key = c.idempotency;
  try {
    const res = await q.query<{ created_version: number | string; created_answer: string }>(
      SQL.createInOneTrip,
      [
        r.tenant,
        r.kind,
        r.id,
        r.name,
        json(r.labels),
        json(r.spec),
        json(r.status),
        c.references.map((ref) => ref.id),
        c.references.map((ref) => ref.kind),
        c.operationId,
        c.jobKey,
        c.jobBody,
        key?.key ?? null,
        key?.fingerprint ?? null,
        key?.ttlMs ?? null,
        key?.wait ?? null,
        c.answer,
      ],
    );
    const row = res.rows[0];
    if (!row) return { outcome: 'keyTaken' };
    return { outcome: 'created', resourceVersion: String(row.created_version), answer: row.created_answer };
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (code === CREATE_REFUSED) return { outcome: 'refused' };
    if (code === LOCK_NOT_AVAILABLE && key) return { outcome: 'keyBusy' };
    throw err;
  }
}

/** One item of {@link createBatch}: the arguments of {@link createInOneTrip}. */
export interface BatchedCreate {
  readonly resource: NewResource;
  readonly create: OneTripCreate;
}

/**
 * How one item of {@link createBatch} ended: as {@link createInOneTrip} says, or `busy` when it
 * met a lock held by another transaction and wrote nothing (send it alone, where it waits).
 */
export type BatchedOutcome =
  | Exclude<OneTripOutcome, { readonly outcome: 'keyBusy' }>
  | { readonly outcome: 'busy' };

/**
 * Several common creates in one statement and one COMMIT (`stratus_create_resources`, migration
 * 0016): one outcome per item, in the items' order. The items should be sorted on
 * (tenant, kind, name); no item waits for a lock longer than `wait` (a lock_timeout).
 */
export async function createBatch(
  q: Queryable,
  items: readonly BatchedCreate[],
  wait: string,
): Promise<BatchedOutcome[]> {
  const arg = items.map(({ resource: r, create: c }) => ({
    tenant: r.tenant,
    kind: r.kind,
    id: r.id,
    name: r.name,
    labels: r.labels,
    spec: r.spec,
    status: r.status,
    ref_ids: c.references.map((ref) => ref.id),
    ref_kinds: c.references.map((ref) => ref.kind),
    op_id: c.operationId,
    job_key: c.jobKey,
    job_body: c.jobBody,
    key: c.idempotency?.key ?? null,
    fingerprint: c.idempotency?.fingerprint ?? null,
    ttl_ms: c.idempotency?.ttlMs ?? null,
    answer: c.answer,
  }));
  const res = await q.query<{
    item: number;
    outcome: 'created' | 'keyTaken' | 'refused' | 'busy';
    created_version: number | string | null;
    created_answer: string | null;
  }>(SQL.createBatch, [JSON.stringify(arg), wait]);
  const outcomes: BatchedOutcome[] = items.map(() => ({ outcome: 'busy' }));
  for (const row of res.rows)
    outcomes[Number(row.item) - 1] =
      row.outcome === 'created'
        ? { outcome: 'created', resourceVersion: String(row.created_version), answer: row.created_answer! }
        : { outcome: row.outcome };
  return outcomes;
}

/**
 * `value` as a jsonb column gives it back: object keys shorter first, then by their UTF-8 bytes,
 * undefined members dropped. A create's answer, built before the row exists, reads as a GET does.
 */
export function inJsonbOrder(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(inJsonbOrder);
  if (typeof value !== 'object' || value === null) return value;
  const entries = Object.entries(value)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => [Buffer.from(k), k, inJsonbOrder(v)] as const)
    .sort(([a], [b]) => a.length - b.length || Buffer.compare(a, b));
  return Object.fromEntries(entries.map(([, k, v]) => [k, v]));
}

/** One resource of the tenant and kind. */
export async function getResource(
  q: Queryable,
  tenant: string,
  kind: string,
  id: string,
): Promise<Resource | undefined> {
  const res = await q.query(SQL.getResource, [id, tenant, kind]);
  return res.rows[0] && toResource(res.rows[0]);
}

/** `getResource`, locking the row for the rest of the transaction. */
export async function lockResource(
  tx: Queryable,
  tenant: string,
  kind: string,
  id: string,
): Promise<Resource | undefined> {
  const res = await tx.query(SQL.lockResource, [id, tenant, kind]);
  return res.rows[0] && toResource(res.rows[0]);
}

/** A resource by id alone (the reconciler's read). */
export async function loadResource(q: Queryable, id: string): Promise<Resource | undefined> {
  const res = await q.query(SQL.loadResource, [id]);
  return res.rows[0] && toResource(res.rows[0]);
}

/** Filter and page of a listing. */
export interface ListQuery {
  /** The last id of the previous page. */
  readonly after?: string;
  /** Labels every row must carry. */
  readonly labels?: Readonly<Record<string, string>>;
  /** Only the children of this owner. */
  readonly owner?: string;
  readonly limit: number;
}

/** One page, ordered by id. */
export async function listResources(
  q: Queryable,
  tenant: string,
  kind: string,
  query: ListQuery,
): Promise<Resource[]> {
  const res = await q.query(SQL.listResources, [
    tenant,
    kind,
    query.after ?? null,
    json(query.labels ?? {}),
    query.limit,
    query.owner ?? null,
  ]);
  return res.rows.map(toResource);
}

/** What a PATCH or delete request writes over a locked row. */
export interface ResourceChange {
  readonly labels: Readonly<Record<string, string>>;
  readonly spec: unknown;
  readonly status: ResourceStatus<unknown>;
  readonly refIds: readonly string[];
  /** Sets deletion_requested_at (kept when already set). */
  readonly deleting: boolean;
  /** Adds one to the generation. */
  readonly bumpGeneration: boolean;
}

/** Writes a change over a row the transaction locked with {@link lockResource}. */
export async function updateResource(tx: Queryable, id: string, change: ResourceChange): Promise<Resource> {
  const res = await tx.query(SQL.updateResource, [
    id,
    json(change.labels),
    json(change.spec),
    json(change.status),
    change.refIds,
    change.deleting,
    change.bumpGeneration ? 1 : 0,
  ]);
  return toResource(res.rows[0]!);
}

/** A referenced resource of the tenant, share-locked until the transaction ends. */
export async function lockReference(
  tx: Queryable,
  tenant: string,
  id: string,
): Promise<{ id: string; kind: string; deleting: boolean } | undefined> {
  const res = await tx.query(SQL.lockReference, [id, tenant]);
  const row = res.rows[0];
  return (
    row && { id: row.id as string, kind: row.kind as string, deleting: row.deletion_requested_at != null }
  );
}

/**
 * Up to 20 resources of the tenant referencing `id`, as `kind/name (id)`; its children too
 * unless `children` is false.
 */
export async function referrers(
  q: Queryable,
  tenant: string,
  id: string,
  { children = true }: { readonly children?: boolean } = {},
): Promise<string[]> {
  const res = await q.query(SQL.referrers, [tenant, id, children]);
  return res.rows.map((r) => `${r.kind as string}/${r.name as string} (${r.id as string})`);
}

/** The resources of the tenant referencing `id`, locked for update (a cascading delete's). */
export async function lockReferrers(tx: Queryable, tenant: string, id: string): Promise<Resource[]> {
  const res = await tx.query(SQL.referrerRows, [tenant, id]);
  return res.rows.map(toResource);
}

/** The children of `ownerId`, locked for update (an owner's delete marks them deleted first). */
export async function lockChildren(tx: Queryable, ownerId: string): Promise<Resource[]> {
  const res = await tx.query(SQL.children, [ownerId]);
  return res.rows.map(toResource);
}

/** A resource being deleted, locked for update (undefined when not deleting or gone). */
export async function lockDeleting(tx: Queryable, id: string): Promise<Resource | undefined> {
  const res = await tx.query(SQL.lockHeldDelete, [id]);
  return res.rows[0] && toResource(res.rows[0]);
}

/** Takes the admission lock of (tenant, kind) until the transaction ends. */
export async function lockAdmission(tx: Queryable, tenant: string, kind: string): Promise<void> {
  await tx.query(SQL.admissionLock, [`${tenant}/${kind}`]);
}

/** Every resource of the tenant and kind but `exceptId`. */
export async function tenantResources(
  q: Queryable,
  tenant: string,
  kind: string,
  exceptId: string | undefined,
): Promise<Resource[]> {
  const res = await q.query(SQL.tenantResources, [tenant, kind, exceptId ?? null]);
  return res.rows.map(toResource);
}

/** An operation about to be inserted. */
export interface NewOperation {
  readonly id: string;
  readonly tenant: string;
  readonly kind: string;
  readonly resourceId: string;
  readonly verb: OperationVerb;
  /** Set exactly when `verb` is `action`. */
  readonly action?: string;
  readonly generation: number;
  readonly jobKey: string;
}

/** Inserts a pending operation. */
export async function insertOperation(tx: Queryable, op: NewOperation): Promise<Operation> {
  const res = await tx.query(SQL.insertOperation, [
    op.id,
    op.tenant,
    op.kind,
    op.resourceId,
    op.verb,
    op.action ?? null,
    op.generation,
    op.jobKey,
  ]);
  return toOperation(res.rows[0]!);
}

/** One operation of the tenant. */
export async function getOperation(q: Queryable, tenant: string, id: string): Promise<Operation | undefined> {
  const res = await q.query(SQL.getOperation, [id, tenant]);
  return res.rows[0] && toOperation(res.rows[0]);
}

/** The newest operation of a resource. */
export async function latestOperation(q: Queryable, resourceId: string): Promise<Operation | undefined> {
  const res = await q.query(SQL.latestOperation, [resourceId]);
  return res.rows[0] && toOperation(res.rows[0]);
}

/** The lease a reconcile pass holds: its job key and fencing token. */
export interface LeaseRef {
  readonly jobKey: string;
  readonly token: number;
}

/** What a reconcile pass starts from: its resource and the resources that one references. */
export interface PassStart {
  readonly resource: Resource;
  /** The referenced resources that exist, by id. */
  readonly references: ReadonlyMap<string, Resource>;
}

/**
 * Loads resource `id` with the resources it references: one round trip, no write (the job's
 * operation reads as running while its job holds a lease: the view of migration 0022). Undefined when
 * it is gone.
 */
export async function beginPass(q: Queryable, id: string): Promise<PassStart | undefined> {
  const res = await q.query(SQL.beginPass, [id]);
  let resource: Resource | undefined;
  const references = new Map<string, Resource>();
  for (const row of res.rows) {
    const r = toResource(row);
    if (row.target) resource = r;
    else references.set(r.id, r);
  }
  return resource && { resource, references };
}

/** {@link beginPass} for many resources in one statement; results in the order of `ids`. */
export async function beginPasses(
  q: Queryable,
  ids: readonly string[],
): Promise<Array<PassStart | undefined>> {
  if (ids.length === 0) return [];
  const res = await q.query(SQL.beginPasses, [ids]);
  const byId = new Map<string, Resource>();
  const refsOf = new Map<string, readonly string[]>();
  for (const row of res.rows) {
    const r = toResource(row);
    byId.set(r.id, r);
    if (row.target) refsOf.set(r.id, (row.ref_ids as string[] | null) ?? []);
  }
  return ids.map((id) => {
    const resource = refsOf.has(id) ? byId.get(id) : undefined;
    if (!resource) return undefined;
    const references = new Map<string, Resource>();
    for (const ref of refsOf.get(id)!) {
      const found = byId.get(ref);
      if (found) references.set(ref, found);
    }
    return { resource, references };
  });
}

/** Moves a job's operation to `state` while its lease is live; false when nothing changed. */
export async function markOperation(
  q: Queryable,
  lease: LeaseRef,
  state: OperationState,
  error: Operation['error'],
): Promise<boolean> {
  const res = await q.query(SQL.markOperation, [lease.jobKey, lease.token, state, jsonOrNull(error)]);
  return res.rowCount > 0;
}

/**
 * The conditional status write: only at `generation` and under a live `lease`; the job's
 * operation moves to `opState` in the same statement; with `keepOutputs`, the row's outputs at
 * the write stay as they are. False when nothing was written.
 */
export async function writeStatus(
  q: Queryable,
  id: string,
  generation: number,
  lease: LeaseRef,
  status: ResourceStatus<unknown>,
  opState: OperationState,
  error: Operation['error'],
  keepOutputs = false,
): Promise<boolean> {
  const res = await q.query<{ written: number }>(SQL.writeStatus, [
    id,
    generation,
    lease.jobKey,
    lease.token,
    json(status),
    opState,
    jsonOrNull(error),
    keepOutputs,
  ]);
  return Number(res.rows[0]?.written ?? 0) > 0;
}

/** One conditional status write (see {@link writeStatus}). */
export interface StatusWrite {
  readonly id: string;
  readonly generation: number;
  readonly lease: LeaseRef;
  readonly status: ResourceStatus<unknown>;
  readonly opState: OperationState;
  readonly error: Operation['error'];
  /** Keep the outputs in the row at the write, not those of `status` (Driver.keepsOutputs). */
  readonly keepOutputs?: boolean;
}

/** {@link writeStatus} for many writes in one statement; whether each was written, in order. */
export async function writeStatuses(q: Queryable, writes: readonly StatusWrite[]): Promise<boolean[]> {
  if (writes.length === 0) return [];
  const res = await q.query<{ job_key: string }>(SQL.writeStatuses, [
    writes.map((w) => w.id),
    writes.map((w) => w.generation),
    writes.map((w) => w.lease.jobKey),
    writes.map((w) => w.lease.token),
    writes.map((w) => json(w.status)),
    writes.map((w) => w.opState),
    writes.map((w) => jsonOrNull(w.error)),
    writes.map((w) => w.keepOutputs === true),
  ]);
  const written = new Set(res.rows.map((r) => r.job_key));
  return writes.map((w) => written.has(w.lease.jobKey));
}

/** Drops a deleted resource at `generation` under a live `lease`; false when nothing was dropped. */
export async function finalizeDelete(
  q: Queryable,
  id: string,
  generation: number,
  lease: LeaseRef,
): Promise<boolean> {
  const res = await q.query<{ written: number }>(SQL.finalizeDelete, [
    id,
    generation,
    lease.jobKey,
    lease.token,
  ]);
  return Number(res.rows[0]?.written ?? 0) > 0;
}

/**
 * Fails the operation of a dead-lettered job and, while the resource is still at that job's
 * generation, writes `status`. Unconditional on any lease: the job is finished for good.
 */
export async function failDeadLettered(
  q: Queryable,
  jobKey: string,
  resourceId: string,
  error: NonNullable<Operation['error']>,
  status: ResourceStatus<unknown>,
): Promise<boolean> {
  const res = await q.query(SQL.failDeadLettered, [jobKey, resourceId, JSON.stringify(error), json(status)]);
  return res.rowCount > 0;
}

/** The resources `dependentId` references whose delete is held for it, locked for update. */
export async function lockHeldDeletesOf(tx: Queryable, dependentId: string): Promise<Resource[]> {
  const res = await tx.query(SQL.heldDeletesOf, [dependentId]);
  return res.rows.map(toResource);
}

/** Fails the held delete of `id` at `generation` with `error`, showing `status`; false when it moved on. */
export async function failHeldDelete(
  tx: Queryable,
  id: string,
  generation: number,
  status: ResourceStatus<unknown>,
  error: NonNullable<Operation['error']>,
): Promise<boolean> {
  const res = await tx.query<{ written: number }>(SQL.failHeldDelete, [
    id,
    generation,
    json(status),
    JSON.stringify(error),
  ]);
  return Number(res.rows[0]?.written ?? 0) > 0;
}

/** Reopens the failed operation of a redriven job while its resource exists; undefined otherwise. */
export async function reopenFailedOperation(
  tx: Queryable,
  jobKey: string,
  resourceId: string,
): Promise<Operation | undefined> {
  const res = await tx.query(SQL.reopenOperation, [jobKey, resourceId]);
  return res.rows[0] && toOperation(res.rows[0]);
}

/** Writes the status of a Failed resource at `generation` whose job was redriven; false when it moved on. */
export async function writeRedriveStatus(
  tx: Queryable,
  id: string,
  generation: number,
  status: ResourceStatus<unknown>,
): Promise<boolean> {
  return (await tx.query(SQL.redriveStatus, [id, generation, json(status)])).rowCount > 0;
}

/** The operations of some jobs, by job key, each with its tenant. */
export async function operationsOfJobs(
  q: Queryable,
  jobKeys: readonly string[],
): Promise<Map<string, Operation & { readonly tenant: string }>> {
  if (jobKeys.length === 0) return new Map();
  const res = await q.query(SQL.operationsOfJobs, [jobKeys]);
  return new Map(
    res.rows.map((r) => [r.job_key as string, { ...toOperation(r), tenant: r.tenant as string }]),
  );
}
