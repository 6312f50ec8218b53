// The write path of every kind (DESIGN.md §4 step 1): validate, then in ONE transaction write
// the resource (generation + 1, Ready=False reason=Provisioning), its operation, and the outbox
// row of the job `reconcile/<kind>/<id>/<generation>`. Nothing here calls a backend.

import { isDeepStrictEqual } from 'node:util';
import { newId } from '../core/resources/ids.js';
import type { KindDefinition } from '../core/resources/kind.js';
import type { KindRegistry } from '../core/resources/registry.js';
import { type Resource, type ResourceStatus, setCondition } from '../core/resources/resource.js';
import type { Database, Queryable } from '../ha/db/database.js';
import { enqueue } from '../ha/outbox/outbox.js';
import {
  DeletingError,
  HasReferrersError,
  NameTakenError,
  NotFoundError,
  PreconditionFailedError,
  ValidationError,
} from './errors.js';
import { RECONCILE_JOB, reconcileJobKey } from './jobs.js';
import { applyMergePatch, isPlainObject } from './merge-patch.js';
import { resolveReferences } from './references.js';
import * as store from './store.js';
import { validateBody } from './validation.js';

/** A resource and the operation that applies its latest change. */
export interface Accepted {
  readonly resource: Resource;
  /** Null for a change of labels only: nothing to reconcile. */
  readonly operation: store.Operation | null;
}

/** Options of {@link createResourceService}. */
export interface ResourceServiceOptions {
  readonly db: Database;
  readonly kinds: KindRegistry;
  /** Attempts of each reconcile job before it fails for good (written into the job). Default 5. */
  readonly maxAttempts?: number;
  /** Condition times; default the process clock. */
  readonly now?: () => Date;
}

/** The one service behind every kind's routes. */
export interface ResourceService {
  create(tenant: string, kind: string, body: unknown): Promise<Accepted>;
  get(tenant: string, kind: string, id: string): Promise<Resource>;
  list(tenant: string, kind: string, query: store.ListQuery): Promise<Resource[]>;
  /** Applies a JSON merge patch over `{ labels, spec }`; `ifMatch` is the expected resourceVersion. */
  patch(tenant: string, kind: string, id: string, patch: unknown, ifMatch?: string): Promise<Accepted>;
  /** Asks for deletion; a repeat answers with the pending delete. */
  delete(tenant: string, kind: string, id: string, ifMatch?: string): Promise<Accepted>;
  getOperation(tenant: string, id: string): Promise<store.Operation>;
}

/** Builds the service over the database and the registered kinds. */
export function createResourceService(options: ResourceServiceOptions): ResourceService {
  const { db, kinds } = options;
  const now = options.now ?? (() => new Date());
  const maxAttempts = options.maxAttempts ?? 5;

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

  /** The operation row and the outbox job of one new generation, in the caller's transaction. */
  const accept = async (tx: Queryable, resource: Resource, verb: store.OperationVerb) => {
    const payload = { kind: resource.kind, id: resource.id, generation: resource.generation };
    const jobKey = reconcileJobKey(payload);
    const operation = await store.insertOperation(tx, {
      id: newId('op'),
      tenant: resource.tenant,
      kind: resource.kind,
      resourceId: resource.id,
      verb,
      generation: resource.generation,
      jobKey,
    });
    await enqueue(tx, { key: jobKey, kind: RECONCILE_JOB, payload, maxAttempts });
    return operation;
  };

  const locked = async (tx: Queryable, tenant: string, kind: string, id: string, ifMatch?: string) => {
    const current = await store.lockResource(tx, tenant, kind, id);
    if (!current) throw new NotFoundError(`no ${kind} ${id}`);
    if (ifMatch !== undefined && ifMatch !== '*' && ifMatch !== current.resourceVersion)
      throw new PreconditionFailedError(
        `${id} is at resourceVersion ${current.resourceVersion}, not ${ifMatch}: read it again`,
      );
    return current;
  };

  return {
    async create(tenant, kindName, body) {
      const kind = kindOf(kindName);
      const valid = validateBody(kind, body);
      return db.transaction(async (tx) => {
        const refIds = await resolveReferences(tx, kinds, kind, tenant, valid.spec);
        const resource = await store.insertResource(tx, {
          id: newId(kind.idPrefix),
          tenant,
          kind: kind.name,
          name: valid.name,
          labels: valid.labels,
          spec: valid.spec,
          status: pendingStatus(undefined, 1, false),
          refIds,
        });
        if (!resource) throw new NameTakenError(kind.name, valid.name);
        return { resource, operation: await accept(tx, resource, 'create') };
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

    async patch(tenant, kindName, id, patch, ifMatch) {
      const kind = kindOf(kindName);
      if (!isPlainObject(patch)) throw new ValidationError([{ path: '', message: 'must be a JSON object' }]);
      const refused = Object.keys(patch)
        .filter((key) => key !== 'labels' && key !== 'spec')
        .map((key) => ({ path: `/${key}`, message: key === 'name' ? 'cannot be changed' : 'unknown field' }));
      if (refused.length > 0) throw new ValidationError(refused);
      return db.transaction(async (tx) => {
        const current = await locked(tx, tenant, kind.name, id, ifMatch);
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
        const resource = await store.updateResource(tx, id, {
          labels: valid.labels,
          spec: valid.spec,
          status: specChanged ? pendingStatus(current.status, current.generation + 1, false) : current.status,
          refIds,
          deleting: false,
          bumpGeneration: specChanged,
        });
        return { resource, operation: specChanged ? await accept(tx, resource, 'update') : null };
      });
    },

    async delete(tenant, kindName, id, ifMatch) {
      const kind = kindOf(kindName);
      return db.transaction(async (tx) => {
        const current = await locked(tx, tenant, kind.name, id, ifMatch);
        if (current.deletionRequestedAt)
          return { resource: current, operation: (await store.latestOperation(tx, id)) ?? null };
        // The row is locked first and the referrers read after, so a create that references
        // this resource either committed before (and is seen) or waits and then sees the
        // deletion (lock-reference.sql).
        const others = await store.referrers(tx, tenant, id);
        if (others.length > 0) throw new HasReferrersError(id, others);
        const resource = await store.updateResource(tx, id, {
          labels: current.labels,
          spec: current.spec,
          status: pendingStatus(current.status, current.generation + 1, true),
          refIds: (kind.references ?? [])
            .map((ref) => current.spec[ref.field])
            .filter((v): v is string => typeof v === 'string'),
          deleting: true,
          bumpGeneration: true,
        });
        return { resource, operation: await accept(tx, resource, 'delete') };
      });
    },

    async getOperation(tenant, id) {
      const operation = await store.getOperation(db, tenant, id);
      if (!operation) throw new NotFoundError(`no operation ${id}`);
      return operation;
    },
  };
}
