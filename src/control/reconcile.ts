// The one reconcile job (DESIGN.md §4 steps 4-5), for every kind. Level-based: it reads the
// resource as it is now, and a newer generation supersedes it without touching the backend.
// Every write is conditional on the generation and the job's lease, so a deposed worker and a
// stale pass write nothing.

import type { BackendPorts } from '../core/ports/index.js';
import { type Driver, type DriverContext, type KindDefinition, valueAt } from '../core/resources/kind.js';
import { ReconcileError } from '../core/resources/reconcile-error.js';
import type { KindRegistry } from '../core/resources/registry.js';
import { type Resource, type ResourceStatus, setCondition } from '../core/resources/resource.js';
import type { Database } from '../ha/db/database.js';
import { coerceError, type JobLogger, silentLogger } from '../ha/job/logger.js';
import { findCause, isBulkheadRejectedError, isCircuitOpenError } from '../ha/resilience/errors.js';
import { DeferJobError, isJobTimeoutError, TerminalJobError } from '../ha/worker/errors.js';
import type { HandlerOptions, HandlerRegistration, JobContext } from '../ha/worker/types.js';
import { describeFailure } from './failure.js';
import { failHeldDeletes } from './held-delete.js';
import { enqueueReconcile, parseReconcilePayload } from './jobs.js';
import { referencedIds } from './references.js';
import { StatementBatcher } from './statement-batcher.js';
import * as store from './store.js';
import { inJobSpan } from './tracing.js';

/** Reasons that mean "another resource is not there yet": the pass defers instead of failing. */
const WAITING_REASONS = new Set(['DependencyNotReady', 'DependentsPending']);
/** How long a change may wait for the resources it needs before its attempts count. */
export const DEPENDENCY_WAIT_MS = 10 * 60_000;
/** Shortest wait after a refusal by an open breaker or a full bulkhead. */
const REFUSED_MIN_MS = 100;
/** Mean delay between two looks at a dependency (jittered ±50 %). */
const DEPENDENCY_POLL_MS = 1_000;

/** Options of {@link createReconcileHandler}. */
export interface ReconcilerOptions {
  readonly db: Database;
  readonly kinds: KindRegistry;
  /** The backends, already behind their resilience policies. */
  readonly ports: BackendPorts;
  /** Attempts before a job fails for good; must match what the service writes into jobs. Default 5. */
  readonly maxAttempts?: number;
  /** Worker options of the handler (lease, timeout, backoff). */
  readonly handler?: Omit<HandlerOptions, 'maxAttempts'>;
  readonly logger?: JobLogger;
  /** Condition times; default the process clock. */
  readonly now?: () => Date;
}

/**
 * How one pass ended, for logs and tests. `stale`: the generation or the lease moved on and
 * nothing was written; `compensated`: the resource was deleted while this pass created it in
 * the backend, so the pass deleted it again.
 */
export type PassOutcome = 'applied' | 'deleted' | 'superseded' | 'gone' | 'stale' | 'compensated';

/** The worker registration of the reconcile job. */
export function createReconcileHandler(options: ReconcilerOptions): HandlerRegistration {
  const { db, kinds, ports } = options;
  const logger = options.logger ?? silentLogger;
  const now = options.now ?? (() => new Date());
  const maxAttempts = options.maxAttempts ?? 5;
  // On PostgreSQL the start and the status write of every pass go through group commit: under
  // load, the passes of a worker share one statement each instead of sending two of their own
  // (bench:api, 2,000 instances: 2.7 commits per resource instead of 3.85, 10-25 % less CPU in
  // the PostgreSQL backends). Not on PGlite: one in-process session has no commit to share, and
  // planning a batched statement there takes 1-8 ms against 0.3-0.45 ms for a single one
  // (embedded, 2,000 instances: 15.6-16.0 ms of CPU per resource batched, 14.0 single).
  const startPass = (id: string) => store.beginPass(db, id);
  const writeOne = (w: store.StatusWrite) =>
    store.writeStatus(db, w.id, w.generation, w.lease, w.status, w.opState, w.error, w.keepOutputs);
  const starts = new StatementBatcher((ids: readonly string[]) => store.beginPasses(db, ids));
  // One batcher per kind: a batch locks the rows it writes (in id order), and a request
  // transaction may hold a row of one kind while it waits for a row it references, of another
  // kind; batches of one kind never hold a row such a transaction waits for.
  const writers = new Map<string, StatementBatcher<store.StatusWrite, boolean>>();
  const writeBatched = (kind: string, write: store.StatusWrite): Promise<boolean> => {
    let writer = writers.get(kind);
    if (!writer) {
      writer = new StatementBatcher((writes: readonly store.StatusWrite[]) =>
        store.writeStatuses(db, writes),
      );
      writers.set(kind, writer);
    }
    return writer.submit(write);
  };
  const grouped = db.driver === 'pg';
  const beginPass = grouped ? (id: string) => starts.submit(id) : startPass;
  const drivers = new Map<KindDefinition, Driver<unknown, unknown>>();
  const driverOf = (kind: KindDefinition) => {
    let driver = drivers.get(kind);
    if (!driver) {
      driver = kind.driver(ports) as Driver<unknown, unknown>;
      drivers.set(kind, driver);
    }
    return driver;
  };
  const writeStatus = (kindName: string, write: store.StatusWrite): Promise<boolean> => {
    const kind = kinds.get(kindName);
    const w = kind && driverOf(kind).keepsOutputs ? { ...write, keepOutputs: true } : write;
    return grouped ? writeBatched(kindName, w) : writeOne(w);
  };

  async function pass(ctx: JobContext): Promise<PassOutcome> {
    const payload = parseReconcilePayload(ctx.job.payload);
    if (!payload) throw new TerminalJobError(`job ${ctx.job.key} carries no reconcile payload`);
    const kind = kinds.get(payload.kind);
    if (!kind) throw new TerminalJobError(`job ${ctx.job.key} names the unknown kind "${payload.kind}"`);
    const lease: store.LeaseRef = { jobKey: ctx.job.key, token: ctx.token };
    // One round trip (shared with the passes starting meanwhile): the resource and what it
    // references. Nothing is written: the operation reads as running while this job holds its
    // lease (the view of migration 0022); only a failed attempt and the operation's end are written.
    const start = await beginPass(payload.id);
    // Gone: a later delete already finished, and its operation said so; this job's own
    // operation (a create or update the delete overtook) ends superseded, never left running.
    if (!start) {
      await store.markOperation(db, lease, 'superseded', null);
      return 'gone';
    }
    const { resource, references } = start;
    if (resource.generation > payload.generation) {
      await store.markOperation(db, lease, 'superseded', null);
      return 'superseded';
    }
    if (resource.generation < payload.generation)
      throw new TerminalJobError(`${resource.id} is at generation ${resource.generation}, behind its job`);

    const driver = driverOf(kind);
    const dctx: DriverContext = {
      clientToken: ctx.clientToken,
      fencingToken: ctx.token,
      signal: ctx.signal,
      reference: async (field) => {
        const id = valueAt(resource.spec, field);
        if (typeof id !== 'string') return undefined;
        // Read with the resource at the start of the pass; one it does not list is read now.
        return references.get(id) ?? store.loadResource(db, id);
      },
    };
    try {
      return await apply(kind, resource, driver, dctx, lease);
    } catch (err) {
      // A lost lease cannot write, and a shutdown is no failure of the resource: another worker
      // runs the job again. A timeout is a failure like any other.
      const reason: unknown = ctx.signal.reason;
      if (!ctx.signal.aborted || isJobTimeoutError(reason)) await recordFailure(resource, ctx, lease, err);
      throw err;
    }
  }

  async function apply(
    kind: KindDefinition,
    resource: Resource,
    driver: Driver<unknown, unknown>,
    dctx: DriverContext,
    lease: store.LeaseRef,
  ): Promise<PassOutcome> {
    if (resource.deletionRequestedAt) {
      // A cascading delete starts this job once its dependents are gone; one that started
      // anyway (a dependent added by hand to the job's resource since) waits for them.
      const waiting = await store.referrers(db, resource.tenant, resource.id);
      if (waiting.length > 0)
        throw new ReconcileError('DependentsPending', `waiting for ${waiting.join(', ')} to be deleted`);
    }
    const observed = await driver.observe(resource, dctx);
    if (resource.deletionRequestedAt) {
      if (observed.exists) {
        await driver.delete(resource, observed.outputs, dctx);
        if ((await driver.observe(resource, dctx)).exists)
          throw new ReconcileError(
            'DeletionPending',
            'the backend still shows the resource after deleting it',
          );
      }
      if (await finalizeDelete(kind, resource, lease)) return 'deleted';
      await store.markOperation(db, lease, 'superseded', null);
      return 'stale';
    }
    const outputs = !observed.exists
      ? await driver.create(resource, dctx)
      : observed.upToDate
        ? observed.outputs
        : await driver.update(resource, observed.outputs, dctx);
    const status: ResourceStatus<unknown> = {
      phase: 'Ready',
      conditions: setCondition(
        resource.status.conditions,
        {
          type: 'Ready',
          status: 'True',
          reason: 'Available',
          message: `generation ${resource.generation} applied`,
          observedGeneration: resource.generation,
        },
        now(),
      ),
      observedGeneration: resource.generation,
      outputs,
    };
    const written = await writeStatus(resource.kind, {
      id: resource.id,
      generation: resource.generation,
      lease,
      status,
      opState: 'succeeded',
      error: null,
    });
    if (written) return 'applied';
    // The row moved on while the backend call ran. If it went away (a delete request whose pass
    // found nothing to delete yet and dropped the row), what this pass just created would be
    // left behind in the backend: delete it here, under this pass's tokens.
    // Its operation ends superseded (a no-op when the lease was lost: another worker owns it).
    await store.markOperation(db, lease, 'superseded', null);
    if (!observed.exists) {
      const after = await store.loadResource(db, resource.id);
      if (!after || after.deletionRequestedAt) {
        await driver.delete(resource, outputs, dctx);
        return 'compensated';
      }
    }
    return 'stale';
  }

  /**
   * Drops the row and, in the same transaction, starts the held delete of each resource it
   * referenced that is waiting for its last dependent (a cascading delete, service.ts).
   */
  async function finalizeDelete(kind: KindDefinition, resource: Resource, lease: store.LeaseRef) {
    return db.transaction(async (tx) => {
      if (!(await store.finalizeDelete(tx, resource.id, resource.generation, lease))) return false;
      // What it references, and its owner: a child's removal may be the last one its owner's
      // delete waits for.
      const parents = referencedIds(kind, resource.spec);
      if (resource.owner !== undefined && !parents.includes(resource.owner)) parents.push(resource.owner);
      for (const id of parents) {
        const parent = await store.lockDeleting(tx, id);
        if (!parent || (await store.referrers(tx, parent.tenant, parent.id)).length > 0) continue;
        const op = await store.latestOperation(tx, parent.id);
        if (op?.verb === 'delete' && op.state === 'pending' && op.generation === parent.generation)
          await enqueueReconcile(
            tx,
            { kind: parent.kind, id: parent.id, generation: parent.generation },
            maxAttempts,
          );
      }
      return true;
    });
  }

  /**
   * How long to wait before trying again when the backend's resilience policy refused the call
   * without running it (an open breaker, a full bulkhead): the backend is known to be down or
   * saturated, so the attempt is not this job's failure. Undefined for any other error.
   */
  function refusedFor(err: unknown): number | undefined {
    const open = findCause(err, isCircuitOpenError);
    if (open)
      return Number.isFinite(open.retryAfterMs)
        ? Math.max(REFUSED_MIN_MS, open.retryAfterMs) * (1 + Math.random() / 2)
        : DEPENDENCY_POLL_MS * (0.5 + Math.random());
    if (findCause(err, isBulkheadRejectedError)) return REFUSED_MIN_MS * (1 + Math.random() * 2);
    return undefined;
  }

  /** Ready=False with the reason on every failed attempt; the last one fails the operation. */
  async function recordFailure(resource: Resource, ctx: JobContext, lease: store.LeaseRef, err: unknown) {
    const failure = describeFailure(err);
    if (failure.reason === 'ReconcileFailed')
      logger.error({ job: ctx.job.key, err: coerceError(err).message }, 'reconcile pass failed unexpectedly');
    // Waiting for another resource, or for a backend its breaker or bulkhead refused, is not this
    // job's failure: it defers without spending an attempt, for at most DEPENDENCY_WAIT_MS after
    // the change was accepted, then counts.
    const refused = refusedFor(err);
    const waiting =
      (WAITING_REASONS.has(failure.reason) || refused !== undefined) &&
      Date.now() - ctx.job.enqueuedAt < DEPENDENCY_WAIT_MS;
    const last = !waiting && (failure.terminal || ctx.attempt >= (ctx.job.maxAttempts ?? maxAttempts));
    const status: ResourceStatus<unknown> = {
      ...resource.status,
      phase: last ? 'Failed' : resource.deletionRequestedAt ? 'Deleting' : 'Provisioning',
      conditions: setCondition(
        resource.status.conditions,
        {
          type: 'Ready',
          status: 'False',
          reason: failure.reason,
          message: failure.message,
          observedGeneration: resource.generation,
        },
        now(),
      ),
    };
    const error = { reason: failure.reason, message: failure.message };
    const written = await writeStatus(resource.kind, {
      id: resource.id,
      generation: resource.generation,
      lease,
      status,
      opState: last ? 'failed' : 'running',
      error,
    }).catch((writeErr: unknown) => {
      logger.warn(
        { job: ctx.job.key, err: coerceError(writeErr).message },
        'could not record a reconcile failure',
      );
      return false;
    });
    // A delete that failed for good fails the deletes a cascade held for it (held-delete.ts).
    if (written && last && resource.deletionRequestedAt)
      await failHeldDeletes(db, resource.id, now).catch((failErr: unknown) =>
        logger.warn(
          { job: ctx.job.key, err: coerceError(failErr).message },
          'could not fail the deletes held for a failed delete',
        ),
      );
    if (failure.terminal) throw new TerminalJobError(failure.message, { cause: err });
    if (waiting)
      throw new DeferJobError(
        refused ?? DEPENDENCY_POLL_MS / 2 + Math.random() * DEPENDENCY_POLL_MS,
        failure.message,
        {
          cause: err,
        },
      );
  }

  return {
    ...options.handler,
    maxAttempts,
    handler: async (ctx) => {
      const job = parseReconcilePayload(ctx.job.payload);
      const outcome = await inJobSpan(
        ctx,
        `reconcile ${job?.kind ?? 'malformed'}`,
        job === undefined
          ? {}
          : {
              'stratus.resource.kind': job.kind,
              'stratus.resource.id': job.id,
              'stratus.resource.generation': job.generation,
            },
        () => pass(ctx),
      );
      logger.debug({ job: ctx.job.key, outcome }, 'reconcile pass');
      return outcome;
    },
  };
}
