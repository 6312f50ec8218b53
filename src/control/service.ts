// The write path of every kind (DESIGN.md §4 step 1): validate, then in ONE transaction write
// the resource (generation + 1, Ready=False reason=Provisioning), its operation, and the outbox
// row of the job `reconcile/<kind>/<id>/<generation>`. Nothing here calls a backend.

import { randomUUID } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { newId } from '../core/resources/ids.js';
import { type KindDefinition, referenceValues, valueAt } from '../core/resources/kind.js';
import type { KindRegistry } from '../core/resources/registry.js';
import { type Resource, type ResourceStatus, setCondition } from '../core/resources/resource.js';
import type { Database, Queryable } from '../ha/db/database.js';
import { encodeEnvelope } from '../ha/job/envelope.js';
import { createRelayWaker } from '../ha/outbox/outbox.js';
import { createBatcher } from './create-batcher.js';
import {
  ActionRefusedError,
  ConflictError,
  DeletingError,
  HasReferrersError,
  NameTakenError,
  NotFoundError,
  PreconditionFailedError,
  ValidationError,
} from './errors.js';
import {
  claimIdempotency,
  completeIdempotency,
  DEFAULT_IDEMPOTENCY_TTL_MS,
  DEFAULT_IDEMPOTENCY_WAIT_MS,
  type IdempotencyRequest,
  inFlightError,
  lockWaitOf,
  type StoredAnswer,
} from './idempotency.js';
import { enqueueReconcile, RECONCILE_JOB, reconcileJobKey } from './jobs.js';
import { applyMergePatch, isPlainObject } from './merge-patch.js';
import { referencedIds, resolveReferences } from './references.js';
import * as store from './store.js';
import { type ResourceBody, validateActionBody, validateBody } from './validation.js';

/** A resource and the operation that applies its latest change. */
export interface Accepted {
  readonly resource: Resource;
  /** Null for a change of labels only: nothing to reconcile. */
  readonly operation: store.Operation | null;
}

/**
 * The answer to a mutation: status and JSON body as sent to the client, the same bytes on a
 * replay of its Idempotency-Key.
 */
export interface Answer extends StoredAnswer {
  /** True when this is the stored answer of an earlier request with the same key. */
  readonly replayed: boolean;
  /** The ETag and the operation's id of the answer, for its headers. */
  readonly resourceVersion: string;
  readonly operationId: string | null;
}

/** Options of one mutation. */
export interface MutationOptions {
  /** The resourceVersion the caller last read (`If-Match`); `*` matches any. */
  readonly ifMatch?: string;
  /**
   * The generation the caller last read: refused (412) once the spec moved on since, whatever
   * status writes came meanwhile (a controller's write over its own older read).
   */
  readonly ifGeneration?: number;
  /** The request's Idempotency-Key and fingerprint. */
  readonly idempotency?: IdempotencyRequest;
  /** Delete only: delete the resources referencing this one first (recursively). */
  readonly cascade?: boolean;
  /** The W3C traceparent of the request, when traced: its jobs continue the trace. */
  readonly trace?: string;
  /**
   * Runs the change inside this transaction instead of one of its own (a controller's fenced
   * transaction): it commits or rolls back with it. No Idempotency-Key then; call
   * {@link ResourceService.wakeRelays} once the transaction committed.
   */
  readonly tx?: Queryable;
  /**
   * The id of the owner of the resource, a child: at create, the owner it is recorded with
   * (same tenant, not being deleted, of a kind that `owns` this one); at delete, the owner
   * removing its child, which no referrer refuses.
   */
  readonly owner?: string;
}

/** Options of {@link createResourceService}. */
export interface ResourceServiceOptions {
  readonly db: Database;
  readonly kinds: KindRegistry;
  /** Attempts of each reconcile job before it fails for good (written into the job). Default 5. */
  readonly maxAttempts?: number;
  /** Condition times; default the process clock. */
  readonly now?: () => Date;
  /** Retention of Idempotency-Key answers. Default 24 h. */
  readonly idempotencyTtlMs?: number;
  /** How long a retry waits for its key's first request before a 409. Default 5 s. */
  readonly idempotencyWaitMs?: number;
}

/** The one service behind every kind's routes. */
export interface ResourceService {
  create(tenant: string, kind: string, body: unknown, options?: MutationOptions): Promise<Answer>;
  get(tenant: string, kind: string, id: string): Promise<Resource>;
  list(tenant: string, kind: string, query: store.ListQuery): Promise<Resource[]>;
  /** Applies a JSON merge patch over `{ labels, spec }`. */
  patch(tenant: string, kind: string, id: string, patch: unknown, options?: MutationOptions): Promise<Answer>;
  /**
   * Asks for deletion; a repeat answers with the pending delete, and one after a failed delete
   * starts a new one. With `cascade`, every resource referencing it (recursively) is asked for
   * deletion too, each with its own operation, and this one's job starts once they are gone.
   */
  delete(tenant: string, kind: string, id: string, options?: MutationOptions): Promise<Answer>;
  /**
   * Applies one of the kind's actions: 202 with a new generation and its operation, or 200
   * with no operation when the action is already in effect (stop of a stopped instance).
   */
  act(
    tenant: string,
    kind: string,
    id: string,
    action: string,
    body: unknown,
    options?: MutationOptions,
  ): Promise<Answer>;
  getOperation(tenant: string, id: string): Promise<store.Operation>;
  /** Wakes the outbox relays: after a transaction passed as `tx` that wrote a job committed. */
  wakeRelays(): void;
}

function headersOf(accepted: Accepted) {
  return { resourceVersion: accepted.resource.resourceVersion, operationId: accepted.operation?.id ?? null };
}

/**
 * Stand-ins for the values of a created answer only the database knows (its resourceVersion and
 * the one time of its rows): random per process, so no request body can contain them.
 */
const UNKNOWN = `stratus-${randomUUID()}`;
const UNKNOWN_VERSION = `${UNKNOWN}-version`;
const UNKNOWN_TIME = `${UNKNOWN}-time`;
const UNKNOWN_VALUE = new RegExp(`"${UNKNOWN}-(version|time)"`);
/** Their order in `JSON.stringify(accepted)`: see migration 0016. */
const UNKNOWN_ORDER = 'version,time,time,time,time';

/**
 * The JSON of a created answer cut around its unknown values, for the database to join with
 * them; undefined when it does not cut as expected.
 */
function answerPieces(accepted: Accepted): string[] | undefined {
  const cut = JSON.stringify(accepted).split(UNKNOWN_VALUE);
  const pieces = cut.filter((_, i) => i % 2 === 0);
  const unknowns = cut.filter((_, i) => i % 2 === 1);
  return unknowns.join(',') === UNKNOWN_ORDER ? pieces : undefined;
}

/**
 * Group commit of creates: items per statement at most. Each item is a subtransaction of the
 * batch, and PostgreSQL keeps 64 subtransaction ids per session in shared memory before it
 * spills to pg_subtrans (slower snapshots for every session): 32 stays well under.
 */
const CREATE_BATCH_MAX = 32;
/** Batch statements in flight at once: one commits while the next gathers and runs. */
const CREATE_BATCHES_IN_FLIGHT = 2;
/**
 * How long an item of a batch waits for a lock another transaction holds before it leaves the
 * batch (and is sent alone, where it waits as a lone create does): short, so that one busy key,
 * name or reference never holds up the others of its batch.
 */
const CREATE_BATCH_LOCK_WAIT = '1ms';

/** The order of a batch's items: their name inserts, in this order, cannot deadlock two batches. */
const byName = (a: store.BatchedCreate, b: store.BatchedCreate) => {
  const [x, y] = [a.resource, b.resource];
  return x.tenant < y.tenant
    ? -1
    : x.tenant > y.tenant
      ? 1
      : x.kind < y.kind
        ? -1
        : x.kind > y.kind
          ? 1
          : x.name < y.name
            ? -1
            : x.name > y.name
              ? 1
              : 0;
};

/** Builds the service over the database and the registered kinds. */
export function createResourceService(options: ResourceServiceOptions): ResourceService {
  const { db, kinds } = options;
  const now = options.now ?? (() => new Date());
  const maxAttempts = options.maxAttempts ?? 5;
  const limits = {
    ttlMs: options.idempotencyTtlMs ?? DEFAULT_IDEMPOTENCY_TTL_MS,
    waitMs: options.idempotencyWaitMs ?? DEFAULT_IDEMPOTENCY_WAIT_MS,
  };

  // The relays are woken after each commit that wrote a job, not by a NOTIFY inside it.
  const wakeRelays = createRelayWaker(db);

  // Concurrent common creates, gathered into one statement each batch (see create-batcher.ts).
  const createBatcherOfDb = createBatcher<store.BatchedCreate, store.BatchedOutcome>({
    maxBatch: CREATE_BATCH_MAX,
    maxInFlight: CREATE_BATCHES_IN_FLIGHT,
    run: async (items) => {
      const order = items.map((_, i) => i).sort((i, j) => byName(items[i]!, items[j]!));
      const sorted = await store.createBatch(
        db,
        order.map((i) => items[i]!),
        CREATE_BATCH_LOCK_WAIT,
      );
      const outcomes: store.BatchedOutcome[] = new Array(items.length);
      order.forEach((i, at) => {
        outcomes[i] = sorted[at]!;
      });
      return outcomes;
    },
  });

  /**
   * One common create through the group commit. An item that the batch could not do wrote
   * nothing and goes alone: `busy` to the one-trip create (which waits for the lock), a batch
   * that failed as a whole (deadlock, connection lost) likewise, with the same ids. If that
   * batch did commit after all, the lone create finds the key's stored answer (a replay); a
   * create without a key finds its resource by id, or at worst its name taken: never two.
   */
  const createBatched = async (item: store.BatchedCreate): Promise<store.OneTripOutcome> => {
    let outcome: store.BatchedOutcome;
    try {
      outcome = await createBatcherOfDb.submit(item);
    } catch {
      if (!item.create.idempotency) {
        const found = await createdBefore(item);
        if (found) return found;
      }
      return store.createInOneTrip(db, item.resource, item.create);
    }
    return outcome.outcome === 'busy' ? store.createInOneTrip(db, item.resource, item.create) : outcome;
  };

  /** The answer of a create that committed although its batch's statement failed. */
  const createdBefore = async (item: store.BatchedCreate): Promise<store.OneTripOutcome | undefined> => {
    const { tenant, kind, id } = item.resource;
    const resource = await store.getResource(db, tenant, kind, id);
    const operation = resource && (await store.getOperation(db, tenant, item.create.operationId));
    if (!resource || !operation) return undefined;
    return {
      outcome: 'created',
      resourceVersion: resource.resourceVersion,
      answer: JSON.stringify({ resource, operation }),
    };
  };

  /**
   * One mutation's transaction: the Idempotency-Key claimed first (a replay writes nothing),
   * then the change, then its answer stored beside it; the relays woken once it committed.
   */
  const mutate = async (
    tenant: string,
    opts: MutationOptions,
    work: (tx: Queryable) => Promise<Accepted>,
  ) => {
    if (opts.tx) {
      if (opts.idempotency)
        throw new TypeError("a change inside a caller's transaction takes no Idempotency-Key");
      const accepted = await work(opts.tx);
      return {
        status: accepted.operation ? 202 : 200,
        body: JSON.stringify(accepted),
        replayed: false,
        ...headersOf(accepted),
      };
    }
    const answer = await db.transaction(async (tx): Promise<Answer> => {
      const key = opts.idempotency;
      const stored = key && (await claimIdempotency(tx, tenant, key, limits));
      if (stored) {
        const body = JSON.parse(stored.body) as Accepted;
        return { ...stored, replayed: true, ...headersOf(body) };
      }
      const accepted = await work(tx);
      const answer = { status: accepted.operation ? 202 : 200, body: JSON.stringify(accepted) };
      if (key) await completeIdempotency(tx, tenant, key.key, answer);
      return { ...answer, replayed: false, ...headersOf(accepted) };
    });
    if (answer.operationId !== null && !answer.replayed) wakeRelays();
    return answer;
  };

  const kindOf = (name: string): KindDefinition => {
    const kind = kinds.get(name);
    if (!kind) throw new NotFoundError(`no kind "${name}"`);
    return kind;
  };

  const pendingStatus = (previous: ResourceStatus | undefined, generation: number, deleting: boolean) => {
    const base = previous ?? { phase: 'Provisioning' as const, conditions: [], observedGeneration: 0 };
    const reason = deleting ? 'Deleting' : 'Provisioning';
    return {
      ...base,
      phase: deleting ? ('Deleting' as const) : ('Provisioning' as const),
      conditions: setCondition(
        base.conditions,
        {
          type: 'Ready',
          status: 'False',
          reason,
          message: deleting ? 'deletion requested' : `generation ${generation} is being applied`,
          observedGeneration: generation,
        },
        now(),
      ),
    };
  };

  /**
   * The operation row and the outbox job of one new generation, in the caller's transaction.
   * A delete waiting for its dependents gets its operation now and its job when the last of
   * them is gone (reconcile.ts).
   */
  const accept = async (
    tx: Queryable,
    resource: Resource,
    verb: store.OperationVerb,
    {
      action,
      enqueueJob = true,
      trace,
    }: { readonly action?: string; readonly enqueueJob?: boolean; readonly trace?: string } = {},
  ) => {
    const payload = { kind: resource.kind, id: resource.id, generation: resource.generation };
    const jobKey = reconcileJobKey(payload);
    const operation = await store.insertOperation(tx, {
      id: newId('op'),
      tenant: resource.tenant,
      kind: resource.kind,
      resourceId: resource.id,
      verb,
      ...(action === undefined ? {} : { action }),
      generation: resource.generation,
      jobKey,
    });
    if (enqueueJob) await enqueueReconcile(tx, payload, maxAttempts, { quiet: true, trace });
    return operation;
  };

  /**
   * The kind's admission check over the tenant's other resources, under the (tenant, kind)
   * lock held to the end of the transaction: a clash is a 409 naming the field.
   */
  const admit = async (
    tx: Queryable,
    kind: KindDefinition,
    tenant: string,
    id: string | undefined,
    spec: Record<string, unknown>,
  ) => {
    if (!kind.admit) return;
    await store.lockAdmission(tx, tenant, kind.name);
    const errors = await kind.admit(spec, {
      id,
      others: (other) => store.tenantResources(tx, tenant, other ?? kind.name, id),
      reference: async (field) => {
        const value = valueAt(spec, field);
        const found = typeof value === 'string' ? await store.loadResource(tx, value) : undefined;
        return found?.tenant === tenant ? found : undefined;
      },
    });
    if (errors.length > 0) throw new ConflictError(errors);
  };

  /** Marks a locked resource deleted: a new generation, its operation, its job unless held. */
  const markDeleting = async (
    tx: Queryable,
    current: Resource,
    enqueueJob: boolean,
    trace: string | undefined,
  ): Promise<Accepted> => {
    const kind = kindOf(current.kind);
    const resource = await store.updateResource(tx, current.id, {
      labels: current.labels,
      spec: current.spec,
      status: pendingStatus(current.status, current.generation + 1, true),
      refIds: referencedIds(kind, current.spec),
      deleting: true,
      bumpGeneration: true,
    });
    return { resource, operation: await accept(tx, resource, 'delete', { enqueueJob, trace }) };
  };

  /**
   * The answer to a repeated delete of a resource being deleted: its delete operation. Undefined
   * when it is not being deleted, or its delete failed for good: a new request starts over, with
   * a new generation and operation (a backend outage outlasting the retries is not final).
   */
  const pendingDelete = async (tx: Queryable, current: Resource): Promise<Accepted | undefined> => {
    if (!current.deletionRequestedAt) return undefined;
    const operation = (await store.latestOperation(tx, current.id)) ?? null;
    if (operation?.verb === 'delete' && operation.state === 'failed') return undefined;
    return { resource: current, operation };
  };

  /**
   * Deletes `root` and, first, everything referencing it, depth first: each dependent is
   * locked, asked for deletion with its own generation and operation, and a resource whose
   * dependents remain gets its job only when the last of them is gone.
   */
  const cascadeDelete = async (
    tx: Queryable,
    root: Resource,
    trace: string | undefined,
  ): Promise<Accepted> => {
    const seen = new Set<string>();
    const walk = async (current: Resource): Promise<Accepted> => {
      seen.add(current.id);
      const dependents = await store.lockReferrers(tx, current.tenant, current.id);
      for (const dependent of dependents) if (!seen.has(dependent.id)) await walk(dependent);
      const pending = await pendingDelete(tx, current);
      if (pending) return pending;
      return markDeleting(tx, current, dependents.length === 0, trace);
    };
    return walk(root);
  };

  /**
   * Marks every child of `owner` deleted (each with its own generation, operation and job, so
   * they go in parallel) and returns how many remain: while any does, the owner's own job is
   * held, and the removal of the last child starts it (reconcile.ts). A child still referenced
   * by another resource (a load balancer's target) waits for it in its pass (DependentsPending).
   */
  const deleteChildren = async (tx: Queryable, owner: Resource, trace: string | undefined) => {
    const children = await store.lockChildren(tx, owner.id);
    for (const child of children)
      if (!(await pendingDelete(tx, child))) await markDeleting(tx, child, true, trace);
    return children.length;
  };

  /** The owner of a child about to be created: same tenant, owning its kind, not being deleted. */
  const lockOwner = async (tx: Queryable, tenant: string, kind: KindDefinition, ownerId: string) => {
    const found = await store.lockReference(tx, tenant, ownerId);
    const ownerKind = found && kinds.get(found.kind);
    if (!found || !ownerKind?.owns?.includes(kind.name))
      throw new ValidationError([
        { path: '/owner', message: `no owner of ${kind.name} ${ownerId} in this tenant` },
      ]);
    if (found.deleting) throw new DeletingError(`${ownerId} is being deleted`);
  };

  const locked = async (
    tx: Queryable,
    tenant: string,
    kind: string,
    id: string,
    ifMatch?: string,
    ifGeneration?: number,
  ) => {
    const current = await store.lockResource(tx, tenant, kind, id);
    if (!current) throw new NotFoundError(`no ${kind} ${id}`);
    if (ifMatch !== undefined && ifMatch !== '*' && ifMatch !== current.resourceVersion)
      throw new PreconditionFailedError(
        `${id} is at resourceVersion ${current.resourceVersion}, not ${ifMatch}: read it again`,
      );
    if (ifGeneration !== undefined && ifGeneration !== current.generation)
      throw new PreconditionFailedError(
        `${id} is at generation ${current.generation}, not ${ifGeneration}: read it again`,
      );
    return current;
  };

  /**
   * The common create in one round trip (migration 0016), or undefined when it needs the
   * transaction of separate statements, whose answer is then today's: a kind with an admission
   * check, a reference that is not an id of its kind, a key already used (a replay, a reuse,
   * another request in flight), a reference that cannot be used or a name taken.
   */
  const createInOneTrip = async (
    tenant: string,
    kind: KindDefinition,
    valid: ResourceBody,
    opts: MutationOptions,
  ): Promise<Answer | undefined> => {
    if (kind.admit) return undefined;
    // Ids are prefixed by their kind, so one id has one kind: each is checked once.
    const references = new Map<string, string>();
    for (const { value, definition } of referenceValues(kind, valid.spec)) {
      const target = kinds.get(definition.kind);
      if (typeof value !== 'string' || !target || !value.startsWith(`${target.idPrefix}_`)) return undefined;
      references.set(value, definition.kind);
    }
    const id = newId(kind.idPrefix);
    const payload = { kind: kind.name, id, generation: 1 };
    const jobKey = reconcileJobKey(payload);
    const resource: Resource = {
      id,
      kind: kind.name,
      tenant,
      name: valid.name,
      labels: store.inJsonbOrder(valid.labels) as Record<string, string>,
      spec: store.inJsonbOrder(valid.spec) as Record<string, unknown>,
      status: store.inJsonbOrder(pendingStatus(undefined, 1, false)) as ResourceStatus,
      generation: 1,
      resourceVersion: UNKNOWN_VERSION,
      createdAt: UNKNOWN_TIME,
      updatedAt: UNKNOWN_TIME,
      deletionRequestedAt: null,
    };
    const operation: store.Operation = {
      id: newId('op'),
      kind: kind.name,
      resourceId: id,
      verb: 'create',
      action: null,
      generation: 1,
      state: 'pending',
      error: null,
      createdAt: UNKNOWN_TIME,
      updatedAt: UNKNOWN_TIME,
      finishedAt: null,
    };
    const answer = answerPieces({ resource, operation });
    if (!answer) return undefined;
    const key = opts.idempotency;
    const done = await createBatched({
      resource: { ...resource, refIds: [...references.keys()] },
      create: {
        references: [...references].map(([refId, refKind]) => ({ id: refId, kind: refKind })),
        operationId: operation.id,
        jobKey,
        jobBody: encodeEnvelope({
          key: jobKey,
          kind: RECONCILE_JOB,
          payload,
          maxAttempts,
          trace: opts.trace,
        }),
        answer,
        ...(key && { idempotency: { ...key, ttlMs: limits.ttlMs, wait: lockWaitOf(limits) } }),
      },
    });
    if (done.outcome === 'keyBusy') throw inFlightError(key!.key);
    if (done.outcome !== 'created') return undefined;
    wakeRelays();
    return {
      status: 202,
      body: done.answer,
      replayed: false,
      resourceVersion: done.resourceVersion,
      operationId: operation.id,
    };
  };

  return {
    async create(tenant, kindName, body, opts = {}) {
      const kind = kindOf(kindName);
      const valid = validateBody(kind, body);
      if (opts.owner === undefined && !opts.tx) {
        const created = await createInOneTrip(tenant, kind, valid, opts);
        if (created) return created;
      }
      return mutate(tenant, opts, async (tx) => {
        const refIds = await resolveReferences(tx, kinds, kind, tenant, valid.spec);
        if (opts.owner !== undefined) {
          await lockOwner(tx, tenant, kind, opts.owner);
          if (!refIds.includes(opts.owner)) refIds.push(opts.owner);
        }
        await admit(tx, kind, tenant, undefined, valid.spec);
        // Resource, operation and job in one statement (see accept for the pieces).
        const id = newId(kind.idPrefix);
        const payload = { kind: kind.name, id, generation: 1 };
        const jobKey = reconcileJobKey(payload);
        const created = await store.createResource(
          tx,
          {
            id,
            tenant,
            kind: kind.name,
            name: valid.name,
            labels: valid.labels,
            spec: valid.spec,
            status: pendingStatus(undefined, 1, false),
            refIds,
            ...(opts.owner === undefined ? {} : { owner: opts.owner }),
          },
          { id: newId('op'), verb: 'create', jobKey },
          encodeEnvelope({ key: jobKey, kind: RECONCILE_JOB, payload, maxAttempts, trace: opts.trace }),
        );
        if (!created) throw new NameTakenError(kind.name, valid.name);
        return created;
      });
    },

    async get(tenant, kindName, id) {
      const kind = kindOf(kindName);
      const resource = await store.getResource(db, tenant, kind.name, id);
      if (!resource) throw new NotFoundError(`no ${kind.name} ${id}`);
      return resource;
    },

    list(tenant, kindName, query) {
      return store.listResources(db, tenant, kindOf(kindName).name, query);
    },

    async patch(tenant, kindName, id, patch, opts = {}) {
      const kind = kindOf(kindName);
      if (!isPlainObject(patch)) throw new ValidationError([{ path: '', message: 'must be a JSON object' }]);
      const refused = Object.keys(patch)
        .filter((key) => key !== 'labels' && key !== 'spec')
        .map((key) => ({ path: `/${key}`, message: key === 'name' ? 'cannot be changed' : 'unknown field' }));
      if (refused.length > 0) throw new ValidationError(refused);
      return mutate(tenant, opts, async (tx) => {
        const current = await locked(tx, tenant, kind.name, id, opts.ifMatch, opts.ifGeneration);
        if (current.deletionRequestedAt) throw new DeletingError(`${id} is being deleted`);
        const merged = applyMergePatch(
          { name: current.name, labels: current.labels, spec: current.spec },
          patch,
        );
        const valid = validateBody(kind, merged);
        const immutable = (kind.immutable ?? [])
          .filter((field) => !isDeepStrictEqual(valid.spec[field], current.spec[field]))
          .map((field) => ({ path: `/spec/${field}`, message: 'cannot be changed' }));
        if (immutable.length > 0) throw new ValidationError(immutable);
        const specChanged = !isDeepStrictEqual(valid.spec, current.spec);
        const refIds = await resolveReferences(tx, kinds, kind, tenant, valid.spec);
        if (specChanged) await admit(tx, kind, tenant, id, valid.spec);
        const resource = await store.updateResource(tx, id, {
          labels: valid.labels,
          spec: valid.spec,
          status: specChanged ? pendingStatus(current.status, current.generation + 1, false) : current.status,
          refIds,
          deleting: false,
          bumpGeneration: specChanged,
        });
        return {
          resource,
          operation: specChanged ? await accept(tx, resource, 'update', { trace: opts.trace }) : null,
        };
      });
    },

    async delete(tenant, kindName, id, opts = {}) {
      const kind = kindOf(kindName);
      return mutate(tenant, opts, async (tx) => {
        const current = await locked(tx, tenant, kind.name, id, opts.ifMatch, opts.ifGeneration);
        if (opts.cascade) return cascadeDelete(tx, current, opts.trace);
        const pending = await pendingDelete(tx, current);
        if (pending) return pending;
        // The row is locked first and the referrers read after, so a create that references
        // this resource either committed before (and is seen) or waits and then sees the
        // deletion (lock-reference.sql). Its own children do not refuse the delete: they go first.
        // A child removed by its owner's controller does not wait for a 409 either: its pass
        // waits until what references it (a load balancer's target) lets go.
        const byOwner = opts.owner !== undefined && current.owner === opts.owner;
        const others = byOwner ? [] : await store.referrers(tx, tenant, id, { children: false });
        if (others.length > 0) throw new HasReferrersError(id, others);
        const children = await deleteChildren(tx, current, opts.trace);
        return markDeleting(tx, current, children === 0, opts.trace);
      });
    },

    async act(tenant, kindName, id, actionName, body, opts = {}) {
      const kind = kindOf(kindName);
      const action = Object.hasOwn(kind.actions ?? {}, actionName) ? kind.actions![actionName] : undefined;
      if (!action) throw new NotFoundError(`${kind.name} have no action "${actionName}"`);
      const input = validateActionBody(action.body, body);
      return mutate(tenant, opts, async (tx) => {
        const current = await locked(tx, tenant, kind.name, id, opts.ifMatch, opts.ifGeneration);
        if (current.deletionRequestedAt) throw new DeletingError(`${id} is being deleted`);
        const outcome = action.apply(current.spec, input, current);
        if ('refused' in outcome) throw new ActionRefusedError(`${actionName}: ${outcome.refused}`);
        // The wanted spec passes the same checks as a created one (the kind's own included).
        const valid = validateBody(kind, { name: current.name, labels: current.labels, spec: outcome.spec });
        if (isDeepStrictEqual(valid.spec, current.spec)) return { resource: current, operation: null };
        const refIds = await resolveReferences(tx, kinds, kind, tenant, valid.spec);
        const resource = await store.updateResource(tx, id, {
          labels: current.labels,
          spec: valid.spec,
          status: pendingStatus(current.status, current.generation + 1, false),
          refIds,
          deleting: false,
          bumpGeneration: true,
        });
        return {
          resource,
          operation: await accept(tx, resource, 'action', { action: actionName, trace: opts.trace }),
        };
      });
    },

    wakeRelays,

    async getOperation(tenant, id) {
      const operation = await store.getOperation(db, tenant, id);
      if (!operation) throw new NotFoundError(`no operation ${id}`);
      return operation;
    },
  };
}
