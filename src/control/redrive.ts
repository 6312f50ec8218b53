// Dead letters for operators (`/v1/system/dead-letters`): the jobs the ledger gave up on, with
// the resource and operation of a reconcile job, and their redrive. A redrive puts the same job
// (same key, so the same client token for backends) back through the outbox with fresh
// attempts, and for a reconcile job reopens its operation and takes the resource out of Failed,
// all in ONE transaction with the Idempotency-Key's answer.

import { setCondition } from '../core/resources/resource.js';
import type { Database, Queryable } from '../ha/db/database.js';
import type { JobEnvelope } from '../ha/job/envelope.js';
import { type DeadJob, listDeadJobs, redriveDeadJob } from '../ha/outbox/dead-letters.js';
import { NotDeadLetteredError, NotFoundError } from './errors.js';
import {
  claimIdempotency,
  completeIdempotency,
  DEFAULT_IDEMPOTENCY_TTL_MS,
  DEFAULT_IDEMPOTENCY_WAIT_MS,
  type IdempotencyRequest,
} from './idempotency.js';
import { parseReconcilePayload, RECONCILE_JOB, type ReconcilePayload } from './jobs.js';
import * as store from './store.js';

/** The resource a reconcile job belongs to. */
export interface JobResource {
  readonly kind: string;
  readonly id: string;
  readonly generation: number;
}

/** One dead letter as the API shows it. */
export interface DeadLetterView {
  readonly jobKey: string;
  /** The job kind (`reconcile`, …); null when the job did not come through the outbox. */
  readonly kind: string | null;
  readonly attempts: number;
  /** The job's own limit, when its envelope sets one. */
  readonly maxAttempts: number | null;
  readonly lastError: string | null;
  readonly enqueuedAt: string | null;
  readonly firstAttemptAt: string;
  readonly failedAt: string | null;
  /** Whether the failure was reported to the dead-letter hook (the operation failed). */
  readonly reported: boolean;
  /** Earlier redrives of this job. */
  readonly redrives: number;
  /** For a reconcile job. */
  readonly resource: JobResource | null;
  readonly operation: (store.Operation & { readonly tenant: string }) | null;
}

/** A page of dead letters; `after` is the last job key of the previous page. */
export interface DeadLetterQuery {
  readonly after?: string;
  readonly kind?: string;
  readonly limit: number;
}

/** The answer to a redrive. */
export interface RedriveAccepted {
  readonly jobKey: string;
  readonly kind: string;
  readonly redrive: { readonly id: number; readonly at: string };
  /** What the dead letter had been through. */
  readonly previous: { readonly attempts: number; readonly lastError: string | null };
  readonly resource: JobResource | null;
  /** The reopened operation of a reconcile job (null: none, or its resource is gone). */
  readonly operation: store.Operation | null;
}

/** A redrive's answer as sent, and whether it was an Idempotency-Key replay. */
export interface RedriveAnswer {
  readonly status: number;
  readonly body: string;
  readonly replayed: boolean;
}

/** Options of {@link createDeadLetters}. */
export interface DeadLettersOptions {
  readonly db: Database;
  readonly idempotencyTtlMs?: number;
  readonly idempotencyWaitMs?: number;
  /** Condition times; default the process clock. */
  readonly now?: () => Date;
}

/** Listing and redrive of dead letters. */
export interface DeadLetters {
  list(query: DeadLetterQuery): Promise<DeadLetterView[]>;
  /**
   * Redrives the dead letter `jobKey`. 404 when no job has that key; 409 when the job is not
   * dead-lettered (a redrive of it is pending or running, it completed, or it has no outbox row).
   * A retry with the same Idempotency-Key replays the first answer.
   */
  redrive(
    tenant: string,
    jobKey: string,
    options?: { idempotency?: IdempotencyRequest },
  ): Promise<RedriveAnswer>;
}

const iso = (d: Date | null): string | null => (d === null ? null : d.toISOString());

function reconcileOf(job: JobEnvelope | undefined): ReconcilePayload | undefined {
  return job?.kind === RECONCILE_JOB ? parseReconcilePayload(job.payload) : undefined;
}

/** Builds the dead-letter listing and redrive over the database. */
export function createDeadLetters(options: DeadLettersOptions): DeadLetters {
  const { db } = options;
  const now = options.now ?? (() => new Date());
  const limits = {
    ttlMs: options.idempotencyTtlMs ?? DEFAULT_IDEMPOTENCY_TTL_MS,
    waitMs: options.idempotencyWaitMs ?? DEFAULT_IDEMPOTENCY_WAIT_MS,
  };

  const view = (d: DeadJob, op: DeadLetterView['operation'] | undefined): DeadLetterView => {
    const payload = reconcileOf(d.job);
    return {
      jobKey: d.jobKey,
      kind: d.job?.kind ?? null,
      attempts: d.attempts,
      maxAttempts: d.job?.maxAttempts ?? null,
      lastError: d.lastError,
      enqueuedAt: iso(d.enqueuedAt),
      firstAttemptAt: d.firstAttemptAt.toISOString(),
      failedAt: iso(d.failedAt),
      reported: d.reported,
      redrives: d.redrives,
      resource: payload ? { kind: payload.kind, id: payload.id, generation: payload.generation } : null,
      operation: op ?? null,
    };
  };

  /** Takes the resource of a redriven reconcile job out of Failed, while at the job's generation. */
  async function unfail(tx: Queryable, payload: ReconcilePayload, previousError: string | null) {
    const resource = await store.loadResource(tx, payload.id);
    if (!resource || resource.generation !== payload.generation || resource.status.phase !== 'Failed') return;
    const status = {
      ...resource.status,
      phase: resource.deletionRequestedAt ? ('Deleting' as const) : ('Provisioning' as const),
      conditions: setCondition(
        resource.status.conditions,
        {
          type: 'Ready',
          status: 'False',
          reason: 'Redriven',
          message: `an operator redrove the failed change${previousError ? ` (it had failed: ${previousError})` : ''}`,
          observedGeneration: payload.generation,
        },
        now(),
      ),
    };
    await store.writeRedriveStatus(tx, resource.id, payload.generation, status);
  }

  return {
    async list(query) {
      const jobs = await listDeadJobs(db, query);
      const ops = await store.operationsOfJobs(
        db,
        jobs.filter((j) => reconcileOf(j.job)).map((j) => j.jobKey),
      );
      return jobs.map((j) => view(j, ops.get(j.jobKey)));
    },

    redrive: (tenant, jobKey, opts = {}) =>
      db.transaction(async (tx): Promise<RedriveAnswer> => {
        const key = opts.idempotency;
        const stored = key && (await claimIdempotency(tx, tenant, key, limits));
        if (stored) return { ...stored, replayed: true };
        const result = await redriveDeadJob(tx, jobKey, now().getTime());
        if (!result.redriven) {
          const r = result.refusal;
          if (r.kind === 'unknown') throw new NotFoundError(`no job "${jobKey}" in the ledger`);
          throw new NotDeadLetteredError(
            r.kind === 'not-failed'
              ? `job "${jobKey}" is ${r.state}, not dead-lettered${r.state === 'completed' ? '' : ': a redrive is already under way'}`
              : `job "${jobKey}" was not enqueued through the outbox and cannot be redriven`,
          );
        }
        const payload = reconcileOf(result.job);
        let operation: store.Operation | null = null;
        if (payload) {
          operation = (await store.reopenFailedOperation(tx, jobKey, payload.id)) ?? null;
          await unfail(tx, payload, result.previous.lastError);
        }
        const accepted: RedriveAccepted = {
          jobKey,
          kind: result.job.kind,
          redrive: { id: result.id, at: result.at.toISOString() },
          previous: result.previous,
          resource: payload ? { kind: payload.kind, id: payload.id, generation: payload.generation } : null,
          operation,
        };
        const answer = { status: 202, body: JSON.stringify(accepted) };
        if (key) await completeIdempotency(tx, tenant, key.key, answer);
        return { ...answer, replayed: false };
      }),
  };
}
